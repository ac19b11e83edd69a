import { describe, expect, it } from 'vitest';
import { createLogger } from '@smshub/logging';
import { MessageState } from '@smshub/smpp';
import { AcceptedStates, type AcceptedState } from './accepted-states.js';

const log = createLogger({ service: 'accepted-states-spec', level: 'silent' as 'info' });

/** A store that records batches, and fails while `failing` is set. */
function fakeStore() {
  const batches: AcceptedState[][] = [];
  const store = {
    failing: false,
    batches,
    async insertAccepted(states: readonly AcceptedState[]): Promise<void> {
      if (store.failing) throw new Error('database unavailable');
      batches.push([...states]);
    },
  };
  return store;
}

const opts = { flushMs: 60_000, maxBatch: 3, maxPending: 4, retentionMs: 1000 };

describe('AcceptedStates', () => {
  it("answers ENROUTE for the account's own accepted messages until written, and writes them in batches", async () => {
    const store = fakeStore();
    const states = new AcceptedStates(store, opts, log);
    states.add('acme', 'c1', 'm1', 0);
    states.add('acme', 'c2', 'm2', 0);
    expect(states.known('acme', 'c1')).toEqual({ messageState: MessageState.ENROUTE });
    expect(states.known('other', 'c1')).toBeUndefined();
    expect(states.known('acme', 'm1')).toBeUndefined();
    states.add('acme', 'c3', 'm3', 0); // the third fills the batch: written at once
    await states.flush();
    expect(store.batches).toEqual([
      [
        { systemId: 'acme', customerMessageId: 'c1', messageId: 'm1', expiresAt: new Date(1000) },
        { systemId: 'acme', customerMessageId: 'c2', messageId: 'm2', expiresAt: new Date(1000) },
        { systemId: 'acme', customerMessageId: 'c3', messageId: 'm3', expiresAt: new Date(1000) },
      ],
    ]);
    // Written: the table answers from now on.
    expect(states.known('acme', 'c1')).toBeUndefined();
    await states.stop();
  });

  it('keeps a failed batch (the newest maxPending) for the next flush, still answering from memory', async () => {
    const store = fakeStore();
    const states = new AcceptedStates(store, { ...opts, maxBatch: 100 }, log);
    store.failing = true;
    for (let i = 1; i <= 6; i++) states.add('acme', `c${i}`, `m${i}`, 0);
    await states.flush();
    expect(store.batches).toEqual([]);
    expect(states.known('acme', 'c6')).toBeDefined();
    expect(states.known('acme', 'c1')).toBeUndefined(); // beyond maxPending: the oldest go
    store.failing = false;
    await states.stop();
    expect(store.batches.flat().map((s) => s.customerMessageId)).toEqual(['c3', 'c4', 'c5', 'c6']);
  });
});
