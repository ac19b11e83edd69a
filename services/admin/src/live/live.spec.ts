import { describe, expect, it } from 'vitest';
import { SessionBindState, type ConnectorState } from '@smshub/contracts';
import { mergeConnectorStates } from './connector-states.js';
import { partitionLag } from './consumer-lag.js';

const T = 1_800_000_000_000;

function state(replicaId: string, o: Partial<ConnectorState> = {}): ConnectorState {
  return {
    connectorId: 'con_a',
    replicaId,
    reportedAt: new Date(T),
    reportIntervalMs: 1000,
    enabled: true,
    sessions: [
      {
        bindType: 'transmitter',
        index: 0,
        state: SessionBindState.SESSION_BIND_STATE_BOUND,
        since: new Date(T),
        windowInUse: 2,
      },
      {
        bindType: 'receiver',
        index: 0,
        state: SessionBindState.SESSION_BIND_STATE_UNBOUND,
        since: new Date(T),
        windowInUse: 0,
      },
    ],
    windowInUse: 2,
    windowSize: 10,
    submitsPerSecond: 30,
    maxSubmitRate: 100,
    tpsShare: 47.5,
    throttledLastMinute: 1,
    failoversLastMinute: 2,
    failoversTotal: 5n,
    lastError: '',
    liveReplicas: 2,
    ...o,
  };
}

describe('mergeConnectorStates', () => {
  it('adds up the fresh replicas and marks one silent for 3 intervals stale, without counting it', () => {
    const [c] = mergeConnectorStates(
      [
        { state: state('r2'), heardAt: T },
        { state: state('r1'), heardAt: T - 3_500 },
      ],
      T + 100,
    );
    expect(c!.replicas.map((r) => [r.state!.replicaId, r.stale])).toEqual([
      ['r1', true],
      ['r2', false],
    ]);
    expect(c).toMatchObject({
      sessionsBound: 1,
      sessionsTotal: 2,
      windowInUse: 2,
      // Receivers carry no submits: 10 x one transmitter.
      windowCapacity: 10,
      submitsPerSecond: 30,
      maxSubmitRate: 100,
      throttledLastMinute: 1,
      failoversLastMinute: 2,
    });
  });

  it('drops a replica silent for an hour and filters by connector', () => {
    const seen = [
      { state: state('r1'), heardAt: T - 3_600_001 },
      { state: state('r2', { connectorId: 'con_b' }), heardAt: T },
    ];
    expect(mergeConnectorStates(seen, T).map((c) => c.connectorId)).toEqual(['con_b']);
    expect(mergeConnectorStates(seen, T, 'con_a')).toEqual([]);
  });
});

describe('partitionLag', () => {
  it('is the end minus the committed offset, or the whole retained log when nothing is committed', () => {
    expect(partitionLag({ partition: 0, committed: 3n, low: 0n, high: 10n })).toBe(7n);
    expect(partitionLag({ partition: 0, committed: -1n, low: 4n, high: 10n })).toBe(6n);
    expect(partitionLag({ partition: 0, committed: 12n, low: 0n, high: 10n })).toBe(0n);
  });
});
