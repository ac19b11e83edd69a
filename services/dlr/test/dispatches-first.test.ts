// DISPATCHES_FIRST (src/joiner.ts): a receipt batch waits for the dispatch batches this process is handling
// before it looks for its dispatches, and a fetch's dispatch batches are handed to the workers before its
// receipt batches (libs/kafka firstTopics). A receipt that closely follows its dispatch (in the same
// fetch) is then joined without being parked; with DLR_RECEIPTS_AFTER_DISPATCHES=false it is parked and
// joined as before. A dispatch batch that fails does not keep the receipt waiting, and a receipt batch
// that never finished (a crash while it waited) is handled again by the next instance: nothing is held
// anywhere but in the uncommitted offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { DeliveryStatus, type SmsPartStatus } from '@smshub/contracts';
import { Joiner } from '../src/joiner.js';
import { parkedTotal } from '../src/metrics.js';
import { dispatchAndReceipt, Harness, latch, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  // the harness's own instance sweeps parked receipts too: never during these tests
  // receiptHoldMs 0: these tests are about the ordering alone; a held receipt (RECEIPT_HOLD,
  // test/receipt-hold.test.ts) would be joined without it and hide a lost reorder
  await h.setup({ sweepIntervalMs: 600_000, receiptHoldMs: 0 });
});

afterAll(async () => {
  await h.teardown();
});

const textOf = (q: unknown): string =>
  typeof q === 'string' ? q : ((q as { text?: string } | null)?.text ?? '');

/** The harness's pool with every statement (pool and client queries) passed through `gate`. */
function gatedPool(
  gate: (text: string, run: () => Promise<pg.QueryResult>) => Promise<pg.QueryResult>,
): typeof h.pool {
  const call = (target: object, fn: unknown, q: unknown, rest: unknown[]): Promise<pg.QueryResult> =>
    gate(textOf(q), () => (fn as (...a: unknown[]) => Promise<pg.QueryResult>).call(target, q, ...rest));
  return new Proxy(h.pool, {
    get(target, prop, receiver) {
      if (prop === 'query') return (q: unknown, ...rest: unknown[]) => call(target, target.query, q, rest);
      if (prop === 'connect')
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p, r) {
              if (p === 'query') return (q: unknown, ...rest: unknown[]) => call(c, c.query, q, rest);
              const v = Reflect.get(c, p, r) as unknown;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(c) : v;
            },
          });
        };
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const pair = (connector: string, supplierId: string) => dispatchAndReceipt(h.topics, connector, supplierId);

function joinerOn(pool: typeof h.pool, applied: SmsPartStatus[], receiptsAfterDispatches: boolean): Joiner {
  return new Joiner({
    options: { ...h.options, receiptsAfterDispatches },
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
}

const deliveredOf = (applied: SmsPartStatus[], hubId: string): SmsPartStatus[] =>
  applied.filter(
    (p) => p.context?.messageId === hubId && p.part?.status === DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  );

async function parkedRow(receiptId: string): Promise<number> {
  const r = await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]);
  return r.rowCount ?? 0;
}

describe('a receipt handled while its dispatch batch is in hand', () => {
  for (const after of [true, false]) {
    it(`is joined ${after ? 'without being parked (receipts after dispatches)' : 'through a parked row (DLR_RECEIPTS_AFTER_DISPATCHES=false)'}`, async () => {
      const p = pair(`con_first_${after}`, after ? '5550001' : '5550002');
      const order: string[] = [];
      const receiptLookedUp = latch();
      // The dispatch's index insert waits until the receipt's index lookup ran, or (when the receipt
      // waits for the dispatch batch, so never runs first) a moment: without the wait the receipt would
      // look up the index while the dispatch's row is not committed.
      const gate = async (text: string, run: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
        if (text.includes('INSERT INTO dlr_dispatch_index')) {
          await Promise.race([receiptLookedUp.wait, new Promise((r) => setTimeout(r, 500))]);
          const res = await run();
          order.push('index');
          return res;
        }
        const res = await run();
        if (text.includes('JOIN dlr_dispatch_index d ON d.keys @>') && !order.includes('lookup')) {
          order.push('lookup');
          receiptLookedUp.open();
        }
        if (text.includes('INSERT INTO dlr_parked_receipts')) order.push('parked');
        return res;
      };
      const applied: SmsPartStatus[] = [];
      const joiner = joinerOn(gatedPool(gate), applied, after);
      const dispatched = joiner.onDispatches([p.dispatch]); // in hand from here
      await joiner.onReceipts([p.receipt]);
      await dispatched;

      expect(deliveredOf(applied, p.hubId)).toHaveLength(1);
      expect(await parkedRow(p.receiptId)).toBe(0);
      // with the wait: the dispatch indexed first, the receipt then matched in memory (no lookup, no park)
      if (after) expect(order).toEqual(['index']);
      else {
        expect(order[0]).toBe('lookup');
        expect(order).toContain('parked');
      }
    });
  }

  it('is parked when the dispatch batch fails, and joined once by its retry', async () => {
    const p = pair('con_first_fail', '5550003');
    let fail = true;
    const gate = async (text: string, run: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
      if (fail && text.includes('INSERT INTO dlr_dispatch_index')) {
        fail = false;
        throw new Error('the dispatch batch fails once');
      }
      return run();
    };
    const applied: SmsPartStatus[] = [];
    const joiner = joinerOn(gatedPool(gate), applied, true);
    const dispatched = joiner.onDispatches([p.dispatch]);
    const received = joiner.onReceipts([p.receipt]);
    await expect(dispatched).rejects.toThrow('fails once');
    await received; // not kept waiting by the failed batch
    expect(await parkedRow(p.receiptId)).toBe(1);
    expect(deliveredOf(applied, p.hubId)).toHaveLength(0);

    await joiner.onDispatches([p.dispatch]); // the consumer's retry
    expect(deliveredOf(applied, p.hubId)).toHaveLength(1);
    expect(await parkedRow(p.receiptId)).toBe(0);
  });

  it('that never finishes (a crash while it waits) is joined once by the next instance', async () => {
    const p = pair('con_first_crash', '5550004');
    const stuck = latch(); // never opened: the crashed instance's dispatch batch stops at its index insert
    const reached = latch();
    const gate = async (text: string, run: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
      if (text.includes('INSERT INTO dlr_dispatch_index')) {
        reached.open();
        await stuck.wait;
      }
      return run();
    };
    const lost: SmsPartStatus[] = [];
    const crashed = joinerOn(gatedPool(gate), lost, true);
    const dispatched = crashed.onDispatches([p.dispatch]).catch(() => undefined);
    let receiptDone = false;
    const received = crashed.onReceipts([p.receipt]).finally(() => (receiptDone = true));
    await reached.wait;
    // the receipt batch is waiting, its offset uncommitted: nothing of it is written anywhere
    expect(receiptDone).toBe(false);
    expect(await parkedRow(p.receiptId)).toBe(0);

    // the next instance gets both records again (their offsets were never committed)
    const applied: SmsPartStatus[] = [];
    const next = joinerOn(h.pool, applied, true);
    await next.onDispatches([p.dispatch]);
    await next.onReceipts([p.receipt]);
    expect(deliveredOf(applied, p.hubId)).toHaveLength(1);
    expect(await parkedRow(p.receiptId)).toBe(0);
    expect(lost).toHaveLength(0);
    void dispatched; // the crashed instance's batches stay where the crash left them
    void received;
  });
});

describe('receipts that follow their dispatch over Kafka', () => {
  it('are joined without a parked row, one final delivery each', async () => {
    const parkedBefore = (await parkedTotal.get()).values[0]?.value ?? 0;
    const hubIds: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const hubId = uuidv7();
      hubIds.push(hubId);
      await h.submit({ hubId });
      const supplierId = String(7_000_000 + i);
      // the receipt produced as soon as its dispatch is acknowledged (an instant supplier)
      sends.push(
        h
          .dispatch({ hubId }, { connectorId: 'con_instant', supplierId, normalised: supplierId })
          .then(() => h.receipt({ connectorId: 'con_instant', textId: supplierId, normalised: supplierId })),
      );
    }
    await Promise.all(sends);
    for (const hubId of hubIds) {
      const final = await h.waitFinal(hubId);
      expect(final.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    }
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    for (const hubId of hubIds) expect(h.finals(hubId)).toHaveLength(1);
    expect(((await parkedTotal.get()).values[0]?.value ?? 0) - parkedBefore).toBe(0);
  });
});
