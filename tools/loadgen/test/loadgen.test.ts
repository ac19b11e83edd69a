import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { runLoad } from '../src/loadgen.js';

let sim: Simulator;
let port: number;

beforeAll(async () => {
  sim = createSimulator({
    seed: 1,
    keepReceived: 0,
    receipts: { mix: { DELIVRD: 9, UNDELIV: 1 }, idStyle: 'decimal' },
  });
  ({ port } = await sim.listen(0));
});
afterAll(async () => {
  await sim.close();
});

describe('runLoad against the simulator', () => {
  it('sends every message of the mix, gets every resp and every receipt back', async () => {
    const before = { ...sim.counters };
    const r = await runLoad({
      host: '127.0.0.1',
      port,
      systemId: 'load',
      password: 'x',
      binds: 2,
      window: 20,
      count: 2000,
      mix: { gsm7: 70, ucs2: 20, long: 10 },
      receiptIdFormat: 'dec',
      keepRecords: true,
    });
    expect(r.messages).toBe(2000);
    const longMessages = new Set(r.records!.filter((x) => x.kind === 'long').map((x) => x.message)).size;
    expect(longMessages).toBeGreaterThan(150);
    expect(longMessages).toBeLessThan(250);
    expect(r.submitted).toBeGreaterThan(2000); // long messages are several submit_sm
    expect(r.accepted).toBe(r.submitted);
    expect(r.errors).toEqual({});
    expect(sim.counters.accepted - before.accepted).toBe(r.submitted);
    expect(r.receipts).toBe(r.accepted);
    expect(r.missingReceipts).toBe(0);
    expect(r.unmatchedReceipts).toBe(0);
    expect((r.receiptStats.DELIVRD ?? 0) + (r.receiptStats.UNDELIV ?? 0)).toBe(r.accepted);
    expect(r.receiptStats.UNDELIV).toBeGreaterThan(0);
    expect(r.respLatencyMs.count).toBe(r.accepted);
    expect(r.receiptLatencyMs.count).toBe(r.accepted);
    expect(r.records).toHaveLength(r.submitted);
    for (const rec of r.records!) {
      expect(rec.status).toBe(0);
      expect(rec.respAt).toBeGreaterThanOrEqual(rec.submitAt);
      expect(rec.receiptAt).toBeGreaterThanOrEqual(rec.submitAt);
    }
    // No duplicates: every message is distinct (the hub's firewall would drop repeats).
    expect(sim.counters.duplicates).toBe(0);
  });

  it('counts errors by status and does not wait for receipts of refused messages', async () => {
    sim.setBehaviour({ errorRates: { [CommandStatus.ESME_RMSGQFUL]: 0.2 } });
    try {
      const r = await runLoad({
        host: '127.0.0.1',
        port,
        systemId: 'load',
        password: 'x',
        count: 300,
        window: 10,
      });
      expect(r.accepted + (r.errors.ESME_RMSGQFUL ?? 0)).toBe(300);
      expect(r.errors.ESME_RMSGQFUL).toBeGreaterThan(20);
      expect(r.receipts).toBe(r.accepted);
    } finally {
      sim.setBehaviour({ errorRates: {} });
    }
  });

  it('keeps going across dropped binds by reconnecting', async () => {
    sim.setBehaviour({ disconnectEvery: 150 });
    try {
      const r = await runLoad({
        host: '127.0.0.1',
        port,
        systemId: 'load',
        password: 'x',
        count: 500,
        window: 5,
        receiptWaitMs: 3000,
      });
      expect(r.reconnects).toBeGreaterThan(0);
      expect(r.messages).toBe(500);
      expect(r.accepted + (r.errors.closed ?? 0)).toBe(r.submitted);
    } finally {
      sim.setBehaviour({ disconnectEvery: 0 });
    }
  });
});
