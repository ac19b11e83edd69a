import { describe, expect, it } from 'vitest';
import { DeliveryStatus, MessageContext } from '@smshub/contracts';
import { decodeCursor, encodeCursor, statusView } from './messages.js';
import { ProblemError } from './problems.js';

const context = MessageContext.fromPartial({
  messageId: 'm1',
  destination: { ton: 1, npi: 1, address: '447400123456' },
  source: { ton: 5, npi: 0, address: 'ACME' },
  clientReference: 'r1',
  receivedAt: new Date(0),
});

describe('statusView', () => {
  it('a firewall rejection shows the stable firewall-rejected type', () => {
    const v = statusView(
      {
        context,
        status: DeliveryStatus.DELIVERY_STATUS_REJECTED,
        final: true,
        connectorId: '',
        segments: 0,
        doneAt: undefined,
      },
      [
        {
          topic: 'sms.rejected.v1',
          time: new Date(1000),
          event: {
            $case: 'rejected',
            value: {
              message: undefined,
              ruleId: 'fw1',
              reason: 'casino',
              error: { code: 'FIREWALL_BLOCKED', receiptError: 13, message: 'blocked by the SMS firewall' },
              destinationInfo: undefined,
              rejectedAt: new Date(1000),
            },
          },
        },
      ],
    );
    expect(v).toMatchObject({
      id: 'm1',
      status: 'rejected',
      final: true,
      to: '+447400123456',
      from: 'ACME',
      client_reference: 'r1',
      error: { type: 'urn:smshub:problem:firewall-rejected', code: 'FIREWALL_BLOCKED' },
    });
    expect((v.timeline as Array<{ event: string }>)[0]!.event).toMatch(/^rejected/);
  });
});

describe('page cursor', () => {
  it('round-trips and refuses tokens it did not make', () => {
    expect(decodeCursor(encodeCursor({ t: 'x', s: 1, e: 2 }))).toEqual({ t: 'x', s: 1, e: 2 });
    expect(() => decodeCursor('garbage')).toThrow(ProblemError);
  });
});
