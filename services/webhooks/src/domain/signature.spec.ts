import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, signatureHeader, verifySignature } from './signature.js';

const body = '{"id":"d1","type":"message.status"}';

describe('webhook signatures', () => {
  it('is HMAC-SHA256 of "<t>.<body>" in hex, one v1 per secret, current first', () => {
    const expected = createHmac('sha256', 's1').update(`1700000000.${body}`).digest('hex');
    expect(sign('s1', 1_700_000_000, body)).toBe(expected);
    expect(signatureHeader(['s1', 's2'], 1_700_000_000, body)).toBe(
      `t=1700000000,v1=${expected},v1=${sign('s2', 1_700_000_000, body)}`,
    );
  });

  it('verifies with any matching secret within the tolerance, and says why not otherwise', () => {
    const header = signatureHeader(['new', 'old'], 1_700_000_000, body);
    const at = { nowSeconds: 1_700_000_100 };
    expect(verifySignature({ header, body, secrets: ['old'], ...at })).toEqual({
      ok: true,
      timestamp: 1_700_000_000,
    });
    expect(verifySignature({ header, body, secrets: ['other', 'new'], ...at }).ok).toBe(true);
    expect(verifySignature({ header, body, secrets: ['other'], ...at })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature({ header, body: `${body} `, secrets: ['new'], ...at }).ok).toBe(false);
    expect(verifySignature({ header, body, secrets: ['new'], nowSeconds: 1_700_000_301 })).toEqual({
      ok: false,
      reason: 'too old',
    });
    for (const bad of [undefined, '', 't=abc,v1=00', 'v1=' + '0'.repeat(64), 't=1700000000'])
      expect(verifySignature({ header: bad, body, secrets: ['new'], ...at })).toEqual({
        ok: false,
        reason: 'malformed',
      });
  });
});
