import { describe, expect, it } from 'vitest';
import { applyEvent, type MessageState, type TimelineEvent } from './domain/timeline.js';
import { packState, unpackState, type StoredState } from './stored-state.js';

const T0 = Date.UTC(2026, 0, 1);
const ID = '01a250a8-61f1-7c40-b688-e92affd01b74';
// as the aggregation stage runs the reducer (the stored state keeps the first timeline entry only)
const config = { notifyIntermediate: false, maxTimeline: 1 };

function run(events: TimelineEvent[]): MessageState {
  let state: MessageState | undefined;
  for (const e of events) state = applyEvent(state, e, config).state;
  if (state === undefined) throw new Error('no events');
  return state;
}

/** The state as the aggregation stage gets it back: packed, through PostgreSQL's json, unpacked. */
function roundTrip(state: MessageState, accountId: string): MessageState {
  const stored = JSON.parse(packState(state, accountId)) as StoredState;
  return unpackState(stored, state.hubMessageId, accountId);
}

const submitted = (accountId?: string): TimelineEvent => ({
  type: 'submitted',
  hubMessageId: ID,
  ...(accountId !== undefined ? { accountId } : {}),
  partsTotal: 1,
  time: T0,
});
const routed: TimelineEvent = {
  type: 'routed',
  hubMessageId: ID,
  connectorId: 'con_a',
  time: T0 + 5,
  reroute: {
    failures: ['UNDELIV'],
    exceptErrors: [],
    windowMs: 60_000,
    ruleId: 'r1',
    candidates: ['con_a', 'con_b'],
  },
};
const part = (
  partIndex: number,
  status: 'ENROUTE' | 'DELIVERED' | 'UNDELIVERABLE',
  extra: Partial<Extract<TimelineEvent, { type: 'part' }>> = {},
): TimelineEvent => ({
  type: 'part',
  hubMessageId: ID,
  partIndex,
  partsTotal: 2,
  status,
  err: status === 'UNDELIVERABLE' ? '005' : '000',
  time: T0 + 100 + partIndex,
  connectorId: 'con_a',
  supplierMessageId: `4B0${partIndex}`,
  ...extra,
});

describe('the stored message state', () => {
  const states: [string, MessageState, string][] = [
    ['submitted, the row has its account', run([submitted('acc')]), 'acc'],
    ['submitted without an account, the row has one (from the context)', run([submitted()]), 'acc'],
    ['no account anywhere', run([submitted()]), ''],
    ['an account other than the row', run([submitted('acc_state')]), 'acc_row'],
    ['an empty account', { ...run([submitted()]), accountId: '' }, ''],
    ['routed first: the timeline starts with it', run([routed, submitted('acc')]), 'acc'],
    [
      'two parts dispatched, one delivered, one failed, final',
      run([
        submitted('acc'),
        routed,
        part(0, 'ENROUTE', { accepted: true, segments: 1 }),
        part(1, 'ENROUTE', { accepted: true, segments: 2 }),
        part(0, 'DELIVERED', { partsTotal: 0, fromReceipt: true, doneAt: T0 + 900 }),
        part(1, 'UNDELIVERABLE', { partsTotal: 0, fromReceipt: true }),
      ]),
      'acc',
    ],
    [
      'receipts seen, attempts counted, a supplier id under another connector',
      {
        ...run([submitted('acc'), part(0, 'ENROUTE', { accepted: true })]),
        parts: [
          {
            status: 'ENROUTE',
            err: '000',
            connectorId: 'con_b',
            supplierIds: [
              { connectorId: 'con_a', supplierMessageId: 'A1' },
              { connectorId: 'con_b', supplierMessageId: 'B1' },
            ],
            attempts: 2,
            seen: ['DELIVERED|000|||A1'],
          },
          { status: 'ENROUTE', err: '000', supplierIds: [], attempts: 0, seen: [] },
        ],
      },
      'acc',
    ],
    ['more parts announced than known', { ...run([submitted('acc')]), partsTotal: 3 }, 'acc'],
  ];

  it.each(states)('reads back what was written: %s', (_name, state, accountId) => {
    expect(roundTrip(state, accountId)).toStrictEqual(state);
  });

  it('leaves out what the row says and the defaults', () => {
    const state = run([submitted('acc'), routed, part(0, 'ENROUTE', { accepted: true, partsTotal: 1 })]);
    const stored = JSON.parse(packState(state, 'acc')) as Record<string, unknown>;
    expect(stored).not.toHaveProperty('hubMessageId');
    expect(stored).not.toHaveProperty('accountId');
    expect(stored).not.toHaveProperty('partsTotal');
    expect(stored).not.toHaveProperty('timeline');
    expect(stored['parts']).toEqual([
      expect.not.objectContaining({ seen: expect.anything(), attempts: expect.anything() }),
    ]);
    expect(packState(state, 'acc').length).toBeLessThan(JSON.stringify(state).length * 0.8);
  });

  it('reads a state stored whole (before migration 0402, or DLR_STATE_FORMAT=jsonb) as it is', () => {
    const state = run([submitted(), part(0, 'ENROUTE', { accepted: true, partsTotal: 1 })]);
    const whole = JSON.parse(JSON.stringify(state)) as StoredState;
    expect(unpackState(whole, ID, 'acc_of_the_row')).toStrictEqual(state);
  });
});
