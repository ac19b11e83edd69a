// Verification of the Smshub-Signature header, self-contained (node:crypto only) so it can be copied into
// a receiver as is; docs/webhooks.md shows the same code.
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * True when `header` ("t=<unix>,v1=<hex>[,v1=<hex>]") carries an HMAC-SHA256 of `${t}.${rawBody}` under
 * one of `secrets` and t is within `toleranceSeconds` of now. `rawBody` must be the bytes as received
 * (not re-serialised JSON).
 */
export function verifySmshubSignature(
  header: string | undefined,
  rawBody: string,
  secrets: string[],
  toleranceSeconds = 300,
): boolean {
  const fields = (header ?? '').split(',').map((kv) => kv.trim().split('='));
  const t = fields.find(([k]) => k === 't')?.[1];
  const sigs = fields.filter(([k]) => k === 'v1').map(([, v]) => Buffer.from(v ?? '', 'hex'));
  if (!t || !/^\d+$/.test(t) || Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false;
  return secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
    return sigs.some((s) => s.length === expected.length && timingSafeEqual(s, expected));
  });
}
