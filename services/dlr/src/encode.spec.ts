import { describe, expect, it } from 'vitest';
import { MessageContext } from '@smshub/contracts';
import { asBuffer, encodeBuffer } from './encode.js';

describe('encodeBuffer', () => {
  it("gives a fresh writer's bytes, each encode in memory of its own", () => {
    const a = MessageContext.fromPartial({ messageId: 'm-1', accountId: 'acc-1', systemId: 'sys' });
    const b = MessageContext.fromPartial({ messageId: 'm-2', accountId: 'x'.repeat(300) });
    const first = encodeBuffer(MessageContext, a);
    const second = encodeBuffer(MessageContext, b);
    expect(Buffer.isBuffer(first)).toBe(true);
    expect(first.equals(Buffer.from(MessageContext.encode(a).finish()))).toBe(true);
    expect(second.equals(Buffer.from(MessageContext.encode(b).finish()))).toBe(true);
    expect(MessageContext.decode(first)).toEqual(a); // not overwritten by the second encode
  });

  it('wraps bytes without copying them', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const view = asBuffer(bytes);
    expect([...view]).toEqual([2, 3]);
    bytes[0] = 9;
    expect(view[0]).toBe(9);
    expect(asBuffer(view)).toBe(view);
  });
});
