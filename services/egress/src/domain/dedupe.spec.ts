import { describe, expect, it } from 'vitest';
import { onDelivery } from './dedupe.js';

describe('onDelivery', () => {
  const ev = Buffer.from('event');
  it('sends a part never seen', () => {
    expect(onDelivery(undefined)).toEqual({ action: 'send', nextAttempt: 1 });
  });
  it('re-publishes without sending a part already sent, failed or reported unknown', () => {
    for (const state of ['sent', 'failed', 'unknown'] as const) {
      expect(onDelivery({ state, attempt: 2, event: ev })).toEqual({ action: 'republish', event: ev });
    }
  });
  it('does not resend a part whose submit_sm was in flight (at-most-once)', () => {
    expect(onDelivery({ state: 'sending', attempt: 3, event: null })).toEqual({
      action: 'report_unknown',
      attempt: 3,
    });
  });
  it('continues a part between retries with the next attempt number', () => {
    expect(onDelivery({ state: 'pending', attempt: 2, event: null })).toEqual({
      action: 'send',
      nextAttempt: 3,
    });
  });
});
