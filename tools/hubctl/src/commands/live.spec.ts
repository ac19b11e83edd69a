import { describe, expect, it } from 'vitest';
import {
  SessionBindState,
  type ListConnectorStatesResponse,
  type ListConsumerLagResponse,
} from '@smshub/contracts';
import { runWith } from '../testing.js';
import { sessionText } from './live.js';

const now = new Date();
const ago = (s: number) => new Date(now.getTime() - s * 1000);

const states: ListConnectorStatesResponse = {
  caughtUp: true,
  connectors: [
    {
      connectorId: 'con_a',
      sessionsBound: 1,
      sessionsTotal: 2,
      windowInUse: 3,
      windowCapacity: 10,
      submitsPerSecond: 40,
      maxSubmitRate: 100,
      throttledLastMinute: 5,
      failoversLastMinute: 2,
      replicas: [
        {
          stale: false,
          ageMs: 900,
          state: {
            connectorId: 'con_a',
            replicaId: 'egress-0',
            reportedAt: now,
            reportIntervalMs: 5000,
            enabled: true,
            sessions: [
              {
                bindType: 'transceiver',
                index: 0,
                state: SessionBindState.SESSION_BIND_STATE_BOUND,
                since: ago(130),
                windowInUse: 3,
              },
            ],
            windowInUse: 3,
            windowSize: 10,
            submitsPerSecond: 40,
            maxSubmitRate: 100,
            tpsShare: 47.5,
            throttledLastMinute: 5,
            failoversLastMinute: 2,
            failoversTotal: 9n,
            lastError: '',
            liveReplicas: 2,
          },
        },
        {
          stale: true,
          ageMs: 31_000,
          state: {
            connectorId: 'con_a',
            replicaId: 'egress-1',
            reportedAt: ago(31),
            reportIntervalMs: 5000,
            enabled: true,
            sessions: [
              {
                bindType: 'transceiver',
                index: 0,
                state: SessionBindState.SESSION_BIND_STATE_UNBOUND,
                since: ago(40),
                windowInUse: 0,
              },
            ],
            windowInUse: 0,
            windowSize: 10,
            submitsPerSecond: 0,
            maxSubmitRate: 100,
            tpsShare: 47.5,
            throttledLastMinute: 0,
            failoversLastMinute: 0,
            failoversTotal: 0n,
            lastError: 'bind failed: ESME_RBINDFAIL',
            liveReplicas: 2,
          },
        },
      ],
    },
  ],
};

describe('hubctl connectors status', () => {
  it('prints one line per connector and replica, with the stale marker and the last error', async () => {
    const r = await runWith(['connectors', 'status', 'con_a'], { listConnectorStates: () => states });
    expect(r.code).toBe(0);
    expect(r.calls[0]!.request).toMatchObject({ connectorId: 'con_a' });
    expect(r.stdout).toMatch(/con_a\s+│ egress-0\s+│ tra#0 bound 2m\s+│ 3\/10\s+│ 40\/100\s+│ 5\s+│ 2/);
    expect(r.stdout).toContain('egress-1 (stale 31s)');
    expect(r.stdout).toContain('bind failed: ESME_RBINDFAIL');
  });

  it('prints the proto JSON with -o json', async () => {
    const r = await runWith(['-o', 'json', 'connectors', 'status'], { listConnectorStates: () => states });
    const json = JSON.parse(r.stdout) as {
      connectors: Array<{ replicas: Array<{ stale?: boolean; state: { failoversTotal: string } }> }>;
    };
    expect(json.connectors[0]!.replicas[1]!.stale).toBe(true);
    expect(json.connectors[0]!.replicas[0]!.state.failoversTotal).toBe('9');
  });
});

describe('hubctl lag and whoami', () => {
  it('prints the groups, the worst first, and the total', async () => {
    const lag: ListConsumerLagResponse = {
      totalLag: 120n,
      readTime: now,
      groups: [
        {
          group: 'smshub-egress',
          state: 'Stable',
          members: 2,
          lag: 120n,
          topics: [{ topic: 'sms.routed.v1', lag: 120n, partitions: [] }],
        },
        { group: 'smshub-dlr', state: 'Stable', members: 1, lag: 0n, topics: [] },
      ],
    };
    const r = await runWith(['lag', 'smshub-egress', 'smshub-dlr'], { listConsumerLag: () => lag });
    expect(r.calls[0]!.request).toMatchObject({ groups: ['smshub-egress', 'smshub-dlr'] });
    expect(r.stdout).toMatch(/smshub-egress\s+│ Stable\s+│ 2\s+│ 120\s+│ sms.routed.v1 120/);
    expect(r.stdout).toContain('total lag 120');
  });

  it('prints who the token is', async () => {
    const r = await runWith(['whoami'], {
      whoAmI: () => ({
        tokenKind: 'token',
        roles: ['operations'],
        accountId: '',
        tokenId: 't1',
        tokenName: 'noc',
        permissions: ['config.read'],
      }),
    });
    expect(r.stdout).toMatch(/token_name\s+│ noc/);
    expect(r.stdout).toContain('operations');
  });

  it('says how long a session has been in its state', () => {
    expect(sessionText(SessionBindState.SESSION_BIND_STATE_BINDING, ago(5), now)).toBe('binding 5s');
    expect(sessionText(SessionBindState.SESSION_BIND_STATE_BOUND, ago(7300), now)).toBe('bound 2h');
  });
});
