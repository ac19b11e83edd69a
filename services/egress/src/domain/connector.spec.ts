import { describe, expect, it } from 'vitest';
import { normaliseSupplierId } from './connector.js';

describe('normaliseSupplierId', () => {
  it('makes a hex submit_sm_resp id and its decimal receipt twin equal', () => {
    const resp = normaliseSupplierId('0A1B2C', 'hex_resp_decimal_receipt', 'resp');
    const text = normaliseSupplierId('0000662316', 'hex_resp_decimal_receipt', 'receipt_text');
    expect(resp).toBe('662316');
    expect(text).toBe(resp);
  });
  it('handles the opposite direction', () => {
    expect(normaliseSupplierId('662316', 'decimal_resp_hex_receipt', 'resp')).toBe(
      normaliseSupplierId('a1b2c', 'decimal_resp_hex_receipt', 'receipt_text'),
    );
  });
  it('ignores case and zero padding by default, but not in verbatim', () => {
    expect(normaliseSupplierId(' 00AbC ', 'unspecified', 'resp')).toBe('abc');
    expect(normaliseSupplierId(' 00AbC ', 'verbatim', 'resp')).toBe('00abc');
  });
});
