import { sweepExpired, expiryDeadline } from './expiry.js';
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  type DlrOutput,
  type MessageState,
  type TimelineConfig,
  type TimelineEvent,
} from './timeline.js';
import type { DeliveryNotification, Dispatch, DlrStatus, NormalisedReceipt } from './types.js';

const T0 = Date.UTC(2026, 0, 1);
const quiet: TimelineConfig = { notifyIntermediate: false };

function run(events: TimelineEvent[], config: TimelineConfig = quiet, start?: MessageState) {
  let state = start;
  const outputs: DlrOutput[] = [];
  for (const e of events) {
    const r = applyEvent(state, e, config);
    state = r.state;
    outputs.push(...r.outputs);
  }
  if (state === undefined) throw new Error('no events');
  return { state, outputs };
}

const notes = (outputs: DlrOutput[]): DeliveryNotification[] =>
  outputs.flatMap((o) => (o.type === 'delivery' ? [o.notification] : []));

const submitted = (
  parts = 1,
  extra: Partial<Extract<TimelineEvent, { type: 'submitted' }>> = {},
): TimelineEvent => ({
  type: 'submitted',
  hubMessageId: 'm1',
  accountId: 'acc',
  destKey: '26201',
  partsTotal: parts,
  time: T0,
  ...extra,
});

function dispatch(partIndex: number, d: Partial<Dispatch> = {}): TimelineEvent {
  return {
    type: 'dispatch',
    dispatch: {
      hubMessageId: 'm1',
      partIndex,
      partsTotal: 2,
      connectorId: 'c1',
      attempt: 1,
      supplierMessageId: `S${partIndex}`,
      smppStatus: 0,
      accepted: true,
      finalFailure: false,
      time: T0 + 1_000,
      ...d,
    },
  };
}

function receipt(
  partIndex: number,
  status: DlrStatus,
  at: number,
  r: Partial<NormalisedReceipt> = {},
  hubMessageId = 'm1',
): TimelineEvent {
  return {
    type: 'receipt',
    hubMessageId,
    partIndex,
    receipt: {
      connectorId: 'c1',
      status,
      receivedAt: at,
      idSource: 'tlv',
      supplierMessageId: `S${partIndex}`,
      ...r,
    },
  };
}

describe('expiry', () => {
  const cfg = { defaultValidityMs: 60_000, graceMs: 5_000 };

  it('expires pending messages after validity (+grace) and leaves final ones alone', () => {
    const pending = run([submitted(2), dispatch(0), dispatch(1), receipt(0, 'DELIVERED', T0 + 2_000)]).state;
    const customValidity = run([submitted(1, { hubMessageId: 'm2', validUntil: T0 + 10_000 })]).state;
    const delivered = run([
      submitted(1, { hubMessageId: 'm3' }),
      dispatch(0, { hubMessageId: 'm3', partsTotal: 1 }),
      receipt(0, 'DELIVERED', T0 + 1, {}, 'm3'),
    ]).state;
    expect(expiryDeadline(pending, cfg)).toBe(T0 + 65_000);
    expect(sweepExpired([pending, customValidity, delivered], T0 + 14_999, cfg)).toEqual([]);
    expect(sweepExpired([pending, customValidity, delivered], T0 + 15_000, cfg)).toEqual([
      { type: 'expire', hubMessageId: 'm2', time: T0 + 15_000 },
    ]);
    const due = sweepExpired([pending, customValidity, delivered], T0 + 65_000, cfg);
    expect(due.map((e) => (e.type === 'expire' ? e.hubMessageId : ''))).toEqual(['m1', 'm2']);

    const expired = applyEvent(pending, { type: 'expire', hubMessageId: 'm1', time: T0 + 65_000 }, quiet);
    expect(notes(expired.outputs)).toEqual([
      expect.objectContaining({ status: 'EXPIRED', err: '009', partsDelivered: 1, final: true }),
    ]);
    expect(sweepExpired([expired.state], T0 + 999_999, cfg)).toEqual([]);
    // a supplier receipt after the hub expired the message does not change the outcome
    const late = applyEvent(expired.state, receipt(1, 'DELIVERED', T0 + 70_000), quiet);
    expect(notes(late.outputs)).toEqual([]);
    expect(late.state.status).toBe('EXPIRED');
  });
});
