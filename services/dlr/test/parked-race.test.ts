// A receipt that overtakes its dispatch is parked, and the dispatch looks for parked receipts once its index
// rows are committed. When the receipt's batch and the dispatch's batch run at the same moment (two
// instances, or one instance's batches of both topics), each can miss the other's uncommitted row: the
// receipt's index lookup runs before the index row commits, the dispatch's parked lookup before the parked
// row commits. The receipt then waited for the sweep (5 s by default): the half-rate receipt p99 of the
// end-to-end benchmark was 4 s. Now the receipt's batch looks at the index again after parking
// (RECHECK_PARKED), so it is joined at once. Here the two batches run in two Joiners (two instances) and
// the test orders their statements into exactly that interleaving; the sweep never runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import {
  DeliveryStatus,
  DispatchOutcome,
  SmsDispatched,
  SmsReceiptRaw,
  type SmsPartStatus,
} from '@smshub/contracts';
import { Joiner } from '../src/joiner.js';
import { consumedRecord, Harness, latch, receiptDate, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  // The harness's own dlr instance sweeps too: never during this test.
  await h.setup({ sweepIntervalMs: 600_000 });
});

afterAll(async () => {
  await h.teardown();
});

/** A latch: `open()` lets every `wait()` through. */
describe('a receipt parked while its dispatch is indexed', () => {
  it('is joined by the receipt batch itself, not left to the sweep', async () => {
    const receiptLookedUp = latch(); // the receipt's index lookup ran (and missed)
    const dispatchLookedUp = latch(); // the dispatch's parked lookup ran (and missed)
    const seen = { parkedInserts: 0, dispatchFoundParked: -1 };
    let armed = true;

    const gate = async (text: string, run: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
      if (text.includes('INSERT INTO dlr_dispatch_index')) await receiptLookedUp.wait;
      if (text.includes('INSERT INTO dlr_parked_receipts')) seen.parkedInserts++;
      const res = await run();
      if (armed && text.includes('JOIN dlr_dispatch_index d ON d.keys @>')) {
        armed = false;
        receiptLookedUp.open();
        await dispatchLookedUp.wait;
      }
      if (text.includes('JOIN dlr_parked_receipts p ON p.keys @>')) {
        seen.dispatchFoundParked = res.rowCount ?? 0;
        dispatchLookedUp.open();
      }
      return res;
    };
    const textOf = (q: unknown): string =>
      typeof q === 'string' ? q : ((q as { text?: string } | null)?.text ?? '');
    // The pool both Joiners use: the harness's, with every statement passed through the gate.
    const pool = new Proxy(h.pool, {
      get(target, prop, receiver) {
        if (prop === 'query')
          return (q: unknown, ...rest: unknown[]) =>
            gate(textOf(q), () => (target.query as (...a: unknown[]) => Promise<pg.QueryResult>)(q, ...rest));
        if (prop === 'connect')
          return async () => {
            const client = await target.connect();
            return new Proxy(client, {
              get(c, p, r) {
                if (p === 'query')
                  return (q: unknown, ...rest: unknown[]) =>
                    gate(textOf(q), () =>
                      (c.query as (...a: unknown[]) => Promise<pg.QueryResult>)(q, ...rest),
                    );
                const v = Reflect.get(c, p, r) as unknown;
                return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
              },
            });
          };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const applied: SmsPartStatus[] = [];
    const joiner = (): Joiner =>
      new Joiner({
        options: { ...h.options, receiptHoldMs: 0 }, // parked, not held (RECEIPT_HOLD)
        logger: h.logger,
        producer: h.producer,
        pool,
        topics: h.topics,
        applyParts: (parts) => {
          applied.push(...parts);
          return Promise.resolve();
        },
        deadLetterTopic: () => `${h.groupId}.dlq`,
      });

    const hubId = uuidv7();
    const now = new Date();
    const dispatch = SmsDispatched.fromPartial({
      context: { messageId: hubId, accountId: 'acc', systemId: 'esme' },
      partNumber: 1,
      partTotal: 1,
      connectorId: 'con_race',
      supplierMessageId: '778899',
      supplierMessageIdNormalised: '778899',
      attempt: 1,
      submittedAt: now,
      respondedAt: now,
      outcome: DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
      segments: 1,
    });
    const receiptId = uuidv7();
    const stamp = receiptDate(now.getTime());
    const receipt = SmsReceiptRaw.fromPartial({
      receiptId,
      connectorId: 'con_race',
      receivedAt: now,
      rawText: Buffer.from(
        `id:778899 sub:001 dlvrd:001 submit date:${stamp} done date:${stamp} stat:DELIVRD err:000 text:`,
        'latin1',
      ),
      esmClass: 0x04,
      supplierMessageIdNormalised: '778899',
    });

    await Promise.all([
      joiner().onReceipts([
        consumedRecord(
          h.topics.receiptRaw.name,
          receipt,
          Buffer.from(SmsReceiptRaw.encode(receipt).finish()),
        ),
      ]),
      joiner().onDispatches([
        consumedRecord(
          h.topics.dispatched.name,
          dispatch,
          Buffer.from(SmsDispatched.encode(dispatch).finish()),
        ),
      ]),
    ]);

    // The interleaving happened: the dispatch found nothing parked, and the receipt was parked.
    expect(seen.dispatchFoundParked).toBe(0);
    expect(seen.parkedInserts).toBe(1);
    // ... and the receipt was joined all the same, and is no longer parked.
    const delivered = applied.filter(
      (p) => p.context?.messageId === hubId && p.part?.status === DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    );
    expect(delivered).toHaveLength(1);
    const parked = await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]);
    expect(parked.rowCount).toBe(0);
  });
});
