// RECEIPT_HOLD (src/joiner.ts): a receipt that finds no dispatch and whose record is younger than
// DLR_RECEIPT_HOLD_MS ends its batch unhandled (BatchOutcome.stopAt): the records before it are handled, it
// and the ones after it come again with the next fetch, by when its dispatch has usually been handled. No
// parked row, no claim. The bound: a receipt held that long (or an old record) is parked as before and
// joined when its dispatch comes; a partition never stops behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, type SmsPartStatus } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Joiner } from '../src/joiner.js';
import { heldTotal, parkedTotal } from '../src/metrics.js';
import { dispatchAndReceipt, Harness, uuidv7 } from './harness.js';

const HOLD_MS = 300;
const h = new Harness();

beforeAll(async () => {
  await h.setup({ receiptHoldMs: HOLD_MS });
});

afterAll(async () => {
  await h.teardown();
});

const pair = (connector: string, supplierId: string, offset: number, receiptTime = Date.now()) =>
  dispatchAndReceipt(h.topics, connector, supplierId, offset, receiptTime);

function joiner(applied: SmsPartStatus[], receiptHoldMs = HOLD_MS): Joiner {
  return new Joiner({
    options: { ...h.options, receiptHoldMs },
    logger: h.logger,
    producer: h.producer,
    pool: h.pool,
    topics: h.topics,
    applyParts: (parts) => {
      applied.push(...parts);
      return Promise.resolve();
    },
    deadLetterTopic: () => `${h.groupId}.dlq`,
  });
}

const deliveredOf = (applied: SmsPartStatus[], hubId: string): SmsPartStatus[] =>
  applied.filter(
    (p) => p.context?.messageId === hubId && p.part?.status === DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  );

async function parkedRow(receiptId: string): Promise<number> {
  const r = await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]);
  return r.rowCount ?? 0;
}

describe('a receipt handled before its dispatch', () => {
  it('ends its batch unhandled, and is joined without a parked row once fetched again after its dispatch', async () => {
    const before = pair('con_hold_a', '6660001', 10); // its dispatch is already handled
    const early = pair('con_hold_a', '6660002', 11); // its dispatch comes later
    const after = pair('con_hold_a', '6660003', 12);
    const applied: SmsPartStatus[] = [];
    const j = joiner(applied);
    await j.onDispatches([before.dispatch, after.dispatch]);

    const batch = [before.receipt, early.receipt, after.receipt];
    expect(await j.onReceipts(batch)).toEqual({ stopAt: '11' });
    // the records before the held one are handled; it and the ones after it are not, nor parked
    expect(deliveredOf(applied, before.hubId)).toHaveLength(1);
    expect(deliveredOf(applied, early.hubId)).toHaveLength(0);
    expect(deliveredOf(applied, after.hubId)).toHaveLength(0);
    expect(await parkedRow(early.receiptId)).toBe(0);

    await j.onDispatches([early.dispatch]);
    // the next fetch: from the held record on
    expect(await j.onReceipts(batch.slice(1))).toBeUndefined();
    for (const p of [before, early, after]) expect(deliveredOf(applied, p.hubId)).toHaveLength(1);
    for (const p of [before, early, after]) expect(await parkedRow(p.receiptId)).toBe(0);
  });

  it('is parked once held DLR_RECEIPT_HOLD_MS, then joined once when its dispatch comes', async () => {
    const p = pair('con_hold_b', '6660004', 20);
    const applied: SmsPartStatus[] = [];
    const j = joiner(applied);
    const heldBefore = (await heldTotal.get()).values[0]?.value ?? 0;
    expect(await j.onReceipts([p.receipt])).toEqual({ stopAt: '20' });
    // fetched again and again while its dispatch never comes: held until the bound, then parked
    let outcome = await j.onReceipts([p.receipt]);
    const start = Date.now();
    while (outcome !== undefined) {
      expect(Date.now() - start).toBeLessThan(HOLD_MS * 10);
      await new Promise((r) => setTimeout(r, 20));
      outcome = await j.onReceipts([p.receipt]);
    }
    expect(((await heldTotal.get()).values[0]?.value ?? 0) - heldBefore).toBeGreaterThanOrEqual(1);
    expect(await parkedRow(p.receiptId)).toBe(1);
    expect(deliveredOf(applied, p.hubId)).toHaveLength(0);

    await j.onDispatches([p.dispatch]); // the dispatch claims it (PARKED_LOOKUP)
    expect(deliveredOf(applied, p.hubId)).toHaveLength(1);
    expect(await parkedRow(p.receiptId)).toBe(0);
  });

  it('is parked at once when its record is older than DLR_RECEIPT_HOLD_MS, or with the setting 0', async () => {
    const old = pair('con_hold_c', '6660005', 30, Date.now() - HOLD_MS * 2);
    const young = pair('con_hold_c', '6660006', 31);
    const applied: SmsPartStatus[] = [];
    expect(await joiner(applied).onReceipts([old.receipt])).toBeUndefined();
    expect(await joiner(applied, 0).onReceipts([young.receipt])).toBeUndefined();
    expect(await parkedRow(old.receiptId)).toBe(1);
    expect(await parkedRow(young.receiptId)).toBe(1);
  });
});

describe('receipts produced before their dispatch, over Kafka', () => {
  it('are joined without a parked row, one final delivery each', async () => {
    const parkedBefore = (await parkedTotal.get()).values[0]?.value ?? 0;
    const heldBefore = (await heldTotal.get()).values[0]?.value ?? 0;
    const hubIds: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const hubId = uuidv7();
      hubIds.push(hubId);
      await h.submit({ hubId });
      const supplierId = String(8_000_000 + i);
      // the dispatch produced 30 ms after its receipt is acknowledged (egress's write before it publishes)
      sends.push(
        h
          .receipt({ connectorId: 'con_late_dispatch', textId: supplierId, normalised: supplierId })
          .then(() => new Promise((r) => setTimeout(r, 30)))
          .then(() =>
            h.dispatch({ hubId }, { connectorId: 'con_late_dispatch', supplierId, normalised: supplierId }),
          ),
      );
    }
    await Promise.all(sends);
    for (const hubId of hubIds) {
      const final = await h.waitFinal(hubId);
      expect(final.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    }
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    for (const hubId of hubIds) expect(h.finals(hubId)).toHaveLength(1);
    expect(((await heldTotal.get()).values[0]?.value ?? 0) - heldBefore).toBeGreaterThan(0);
    expect(((await parkedTotal.get()).values[0]?.value ?? 0) - parkedBefore).toBe(0);
  });

  it('whose dispatch never comes do not stop the partition: parked after the bound, joined when it comes', async () => {
    const lost = uuidv7();
    const next = uuidv7();
    await h.submit({ hubId: lost });
    await h.submit({ hubId: next });
    const parkedBefore = (await parkedTotal.get()).values[0]?.value ?? 0;
    // same connector, so the same receipt partition: the second receipt comes after the held one
    await h.receipt({ connectorId: 'con_never', textId: '9000001', normalised: '9000001' });
    await h.receipt({ connectorId: 'con_never', textId: '9000002', normalised: '9000002' });
    await waitFor(
      async () => ((await parkedTotal.get()).values[0]?.value ?? 0) - parkedBefore >= 2 || undefined,
      { what: 'both receipts parked after the hold', timeoutMs: 20_000 },
    );
    await h.dispatch(
      { hubId: lost },
      { connectorId: 'con_never', supplierId: '9000001', normalised: '9000001' },
    );
    await h.dispatch(
      { hubId: next },
      { connectorId: 'con_never', supplierId: '9000002', normalised: '9000002' },
    );
    for (const hubId of [lost, next]) {
      expect((await h.waitFinal(hubId)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    }
    await h.waitCaughtUp(h.topics.dispatched.name);
    for (const hubId of [lost, next]) expect(h.finals(hubId)).toHaveLength(1);
  });
});
