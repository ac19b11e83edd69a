import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures. The header is `Smshub-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, where each
 * v1 is HMAC-SHA256(secret, `${t}.${body}`) in lowercase hex: one per valid secret (two while a secret
 * is being rotated, the current one first). A receiver accepts when any v1 matches one of its secrets and
 * t is within its tolerance of its clock (replays of an old request are refused). The same scheme as
 * Stripe's, so existing verification code and habits carry over.
 */
export const SIGNATURE_HEADER = 'smshub-signature';

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The header value for `body` sent at `timestamp` (unix seconds), signed with every secret in `secrets`. */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${sign(s, timestamp, body)}`)].join(',');
}

export type Verification =
  { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'too old' | 'mismatch' };

/** Checks a received header against the receiver's secrets (any may match) and clock. */
export function verifySignature(opts: {
  header: string | undefined;
  body: string;
  secrets: readonly string[];
  nowSeconds?: number;
  toleranceSeconds?: number;
}): Verification {
  const parts = (opts.header ?? '').split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const sigs = parts.filter(([k, v]) => k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => v!);
  if (!t || !/^\d+$/.test(t) || sigs.length === 0) return { ok: false, reason: 'malformed' };
  const timestamp = Number(t);
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (opts.toleranceSeconds ?? 300)) return { ok: false, reason: 'too old' };
  for (const secret of opts.secrets) {
    const expected = Buffer.from(sign(secret, timestamp, opts.body), 'hex');
    for (const s of sigs) {
      if (timingSafeEqual(expected, Buffer.from(s, 'hex'))) return { ok: true, timestamp };
    }
  }
  return { ok: false, reason: 'mismatch' };
}
