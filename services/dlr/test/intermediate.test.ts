// DLR_INTERMEDIATE_RECEIPTS=true: intermediate statuses reach the customer too, in revision order,
// and the final one still comes exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DeliveryStatus } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup({ intermediateReceipts: true });
});

afterAll(async () => {
  await h.teardown();
});

it('publishes ENROUTE and ACCEPTED before the final status when intermediate receipts are on', async () => {
  const hubId = uuidv7();
  await h.submit({ hubId });
  await h.dispatch({ hubId }, { connectorId: 'con_i', supplierId: '5150', normalised: '5150' });
  await h.receipt({ connectorId: 'con_i', textId: '5150', normalised: '5150', stat: 'ACCEPTD' });
  await waitFor(
    () => (h.deliveries.get(hubId) ?? []).some((d) => d.status === DeliveryStatus.DELIVERY_STATUS_ACCEPTED),
    {
      what: 'the ACCEPTED delivery',
    },
  );
  await h.receipt({ connectorId: 'con_i', textId: '5150', normalised: '5150', stat: 'DELIVRD' });
  await h.waitFinal(hubId);
  await h.receipt({ connectorId: 'con_i', textId: '5150', normalised: '5150', stat: 'DELIVRD' });
  await waitFor(
    async () =>
      Number(
        (
          await h.pool.query(
            "SELECT count(*) AS n FROM dlr_timeline WHERE message_id = $1 AND (kind = 'receipt' OR receipt IS NOT NULL)",
            [hubId],
          )
        ).rows[0].n,
      ) === 3,
    { what: 'every receipt joined' },
  );
  await h.waitCaughtUp(h.topics.receiptRaw.name);
  const seen = (h.deliveries.get(hubId) ?? []).map((d) => [d.revision, d.status, d.final]);
  expect(seen).toEqual([
    [1, DeliveryStatus.DELIVERY_STATUS_ENROUTE, false],
    [2, DeliveryStatus.DELIVERY_STATUS_ACCEPTED, false],
    [3, DeliveryStatus.DELIVERY_STATUS_DELIVERED, true],
  ]);
});
