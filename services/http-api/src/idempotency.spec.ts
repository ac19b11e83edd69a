import { describe, expect, it } from 'vitest';
import { canonicalJson, decide, requestHash, RETENTION_MS, type StoredKey } from './idempotency.js';

const row = (o: Partial<StoredKey> = {}): StoredKey => ({
  requestHash: 'h',
  state: 'done',
  messageIds: ['m1'],
  statusCode: 202,
  response: { id: 'm1' },
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...o,
});

describe('decide', () => {
  it('replays a finished request, refuses another request with the key, waits for a running one', () => {
    expect(decide(row(), 'h', 1000, 30_000)).toEqual({
      kind: 'replay',
      statusCode: 202,
      response: { id: 'm1' },
    });
    expect(decide(row(), 'other', 1000, 30_000)).toEqual({ kind: 'mismatch' });
    expect(decide(row({ state: 'pending' }), 'h', 1000, 30_000)).toEqual({ kind: 'in-progress' });
    // A different request is refused even while the first one runs.
    expect(decide(row({ state: 'pending' }), 'other', 1000, 30_000)).toEqual({ kind: 'mismatch' });
  });

  it("takes over a silent owner's key with its message ids; forgets keys after 24 h", () => {
    expect(decide(row({ state: 'pending', messageIds: ['a', 'b'] }), 'h', 30_000, 30_000)).toEqual({
      kind: 'take-over',
      messageIds: ['a', 'b'],
    });
    expect(decide(row(), 'other', RETENTION_MS, 30_000)).toEqual({ kind: 'expired' });
  });
});

describe('requestHash', () => {
  it('is the same for the same JSON in another key order, different for another path or body', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: null }] })).toBe('{"a":[{"x":null,"y":2}],"b":1}');
    const h = requestHash('POST', '/v1/messages', { to: '+1', text: 'x' });
    expect(requestHash('POST', '/v1/messages', { text: 'x', to: '+1' })).toBe(h);
    expect(requestHash('POST', '/v1/messages/batch', { text: 'x', to: '+1' })).not.toBe(h);
    expect(requestHash('POST', '/v1/messages', { text: 'y', to: '+1' })).not.toBe(h);
  });
});
