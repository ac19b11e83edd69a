import { describe, expect, it } from 'vitest';
import { CommandStatus } from '@smshub/smpp';
import { decide, type RetryPolicy } from './failover.js';

const policy: RetryPolicy = { maxRetriesPerConnector: 2, backoff: { initialMs: 100, maxMs: 1000 } };

describe('decide', () => {
  it('is done when accepted', () => {
    expect(decide({ kind: 'accepted' }, 0, true, policy)).toEqual({ action: 'done' });
  });

  it('retries throttling, queue full and timeouts on the same connector with growing backoff', () => {
    expect(decide({ kind: 'rejected', status: CommandStatus.ESME_RTHROTTLED }, 0, true, policy)).toEqual({
      action: 'retry_same',
      delayMs: 100,
    });
    expect(decide({ kind: 'rejected', status: CommandStatus.ESME_RMSGQFUL }, 1, true, policy)).toEqual({
      action: 'retry_same',
      delayMs: 200,
    });
    expect(decide({ kind: 'timeout' }, 0, false, policy).action).toBe('retry_same');
    expect(decide({ kind: 'closed' }, 0, false, policy).action).toBe('retry_same');
  });

  it('fails over once the retries on a connector are used up', () => {
    expect(decide({ kind: 'timeout' }, 2, true, policy)).toEqual({ action: 'next_candidate' });
    expect(decide({ kind: 'timeout' }, 2, false, policy)).toEqual({ action: 'fail' });
  });

  it('fails over at once on a permanent rejection, and fails on the last candidate', () => {
    const invalidDest = { kind: 'rejected', status: CommandStatus.ESME_RINVDSTADR } as const;
    expect(decide(invalidDest, 0, true, policy)).toEqual({ action: 'next_candidate' });
    expect(decide(invalidDest, 0, false, policy)).toEqual({ action: 'fail' });
  });

  it('skips a connector that is down or cannot carry the message, and stops on expiry', () => {
    expect(decide({ kind: 'not_sent', reason: 'unavailable' }, 0, true, policy).action).toBe(
      'next_candidate',
    );
    expect(decide({ kind: 'not_sent', reason: 'unsupported' }, 0, false, policy).action).toBe('fail');
    expect(decide({ kind: 'not_sent', reason: 'expired' }, 0, true, policy).action).toBe('fail');
  });
});
