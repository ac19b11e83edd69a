import { describe, expect, it } from 'vitest';
import { SubmitChannel, TrafficType } from '@smshub/contracts';
import { compose, destinationDigits, senderAddress } from './compose.js';
import { ProblemError } from './problems.js';

const account = {
  id: 'acc',
  defaultValiditySeconds: 3600,
  defaultTrafficType: TrafficType.TRAFFIC_TYPE_MARKETING,
};
const base = {
  account,
  messageId: 'm1',
  replica: 'r',
  requestId: 'q',
  remoteAddress: '127.0.0.1',
  now: new Date(0),
};
const kind = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProblemError) return err.kind;
    throw err;
  }
  return undefined;
};

describe('compose', () => {
  it('makes one payload message whatever the length, counting segments as egress splits them', () => {
    const c = compose({ ...base, input: { to: '+447400123456', from: 'ACME', text: 'a'.repeat(161) } });
    expect(c.segments).toBe(2);
    expect(c.event.fromMessagePayload).toBe(true);
    expect(c.event.concat).toBeUndefined();
    expect(c.event.shortMessage.length).toBe(161);
    expect(c.event.channel).toBe(SubmitChannel.SUBMIT_CHANNEL_HTTP);
    expect(
      compose({ ...base, input: { to: '+447400123456', from: 'ACME', text: 'a'.repeat(160) } }).segments,
    ).toBe(1);
    // UCS2: 70 in one, 67 per part after.
    const u = compose({ ...base, input: { to: '+447400123456', from: 'ACME', text: 'ж'.repeat(71) } });
    expect([u.segments, u.encoding, u.event.dataCoding]).toEqual([2, 'ucs2', 8]);
    // Forced UCS2 for a GSM text.
    expect(
      compose({ ...base, input: { to: '+447400123456', from: 'ACME', text: 'hi', encoding: 'ucs2' } }).event
        .shortMessage,
    ).toEqual(Buffer.from([0, 0x68, 0, 0x69]));
  });

  it('validity, traffic type and references: the request or the account defaults', () => {
    const d = compose({ ...base, input: { to: '+447400123456', from: 'ACME', text: 'x' } }).event;
    expect(d.validityUntil).toEqual(new Date(3600_000));
    expect(d.trafficType).toBe(TrafficType.TRAFFIC_TYPE_MARKETING);
    expect([d.callbackUrl, d.clientReference]).toEqual(['', '']);
    const e = compose({
      ...base,
      input: {
        to: '+447400123456',
        from: 'ACME',
        text: 'x',
        validity: 600,
        traffic_type: 'otp',
        client_reference: 'r',
        callback_url: 'https://x/y',
      },
    }).event;
    expect(e.validityUntil).toEqual(new Date(600_000));
    expect(e.trafficType).toBe(TrafficType.TRAFFIC_TYPE_OTP);
    expect([e.callbackUrl, e.clientReference]).toEqual(['https://x/y', 'r']);
  });

  it('refuses gsm7 for a text outside the alphabet, and texts of more than 255 segments', () => {
    expect(
      kind(() =>
        compose({ ...base, input: { to: '+447400123456', from: 'A', text: 'ж', encoding: 'gsm7' } }),
      ),
    ).toBe('validation-failed');
    expect(
      kind(() =>
        compose({ ...base, input: { to: '+447400123456', from: 'A', text: 'ж'.repeat(67 * 255 + 1) } }),
      ),
    ).toBe('text-too-long');
  });
});

describe('addresses', () => {
  it('destinations: E.164 with "+" and possible for the country', () => {
    expect(destinationDigits('+447400123456')).toBe('447400123456');
    for (const bad of ['447400123456', '+0447400123456', '+44', '+1 202 555 0100', '+999123456789'])
      expect(
        kind(() => destinationDigits(bad)),
        bad,
      ).toBe('invalid-number');
  });

  it('senders: alphanumeric (TON 5), international (TON 1) or short code (TON 3)', () => {
    expect(senderAddress('ACME Bank')).toEqual({ ton: 5, npi: 0, address: 'ACME Bank' });
    expect(senderAddress('+447700900001')).toEqual({ ton: 1, npi: 1, address: '447700900001' });
    expect(senderAddress('447700900001')).toEqual({ ton: 1, npi: 1, address: '447700900001' });
    expect(senderAddress('12345')).toEqual({ ton: 3, npi: 0, address: '12345' });
    for (const bad of ['ACME!', 'TwelveLetter', '', '1'.repeat(16)])
      expect(
        kind(() => senderAddress(bad)),
        bad,
      ).toBe('invalid-sender');
  });
});
