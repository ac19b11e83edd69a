import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { newMessageId } from './message-id.js';

describe('newMessageId', () => {
  it('is a UUIDv7 whose first 48 bits are the millisecond time', () => {
    const now = Date.UTC(2026, 10, 29, 19, 30, 0, 123);
    const id = newMessageId(now);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(id[19]).toMatch(/[89ab]/); // RFC 9562 variant
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts in the order made, within one millisecond and when the clock goes back', () => {
    const now = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, () => newMessageId(now));
    ids.push(newMessageId(now - 5000), newMessageId(now + 1), newMessageId(now + 1));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(version(id)).toBe(7);
  });

  it('draws fresh random bits for every id', () => {
    const a = newMessageId(1);
    const b = newMessageId(2);
    expect(a.slice(24)).not.toBe(b.slice(24));
  });
});
