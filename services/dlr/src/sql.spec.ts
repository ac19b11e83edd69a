import { describe, expect, it } from 'vitest';
import { isUuid, lockKey } from './sql.js';

describe('sql helpers', () => {
  it('derives a stable signed 64-bit lock key from the random tail of a hub id', () => {
    const id = '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f';
    expect(lockKey(id)).toBe(lockKey(id.toUpperCase()));
    expect(lockKey(id)).toBe(BigInt.asIntN(64, 0x9f103a4b5c6d7e8fn).toString());
    expect(lockKey('01935f3e-8c2a-7b6e-1f10-3a4b5c6d7e8f')).not.toBe(lockKey(id));
  });

  it('accepts canonical UUIDs only', () => {
    expect(isUuid('01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid("01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f' OR 1=1")).toBe(false);
  });
});
