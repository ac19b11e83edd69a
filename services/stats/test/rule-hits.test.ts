// StatsService.GetRuleHits over Kafka, PostgreSQL and gRPC: hits per routing and firewall rule from
// sms.routed.v1 and sms.rejected.v1 (whatever replica published them), by the minute routing decided;
// a replayed batch counts once; config.read roles only.
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerInterceptor, type Role } from '@smshub/auth';
import {
  GetRuleHitsRequest,
  SmsRejected,
  SmsRouted,
  StatsServiceClient,
  type GetRuleHitsResponse,
} from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Harness } from './harness.js';

const h = new Harness();
const clients: StatsServiceClient[] = [];

function ruleHits(role: Role, req: Partial<GetRuleHitsRequest> = {}): Promise<GetRuleHitsResponse> {
  const c = new StatsServiceClient(`127.0.0.1:${h.stats.grpcPort}`, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(h.tokens[role])],
  });
  clients.push(c);
  return new Promise((resolve, reject) =>
    c.getRuleHits(GetRuleHitsRequest.fromPartial(req), (err, res) => (err ? reject(err) : resolve(res))),
  );
}

const message = () => ({
  messageId: randomUUID(),
  accountId: h.accounts[0]!,
  receivedAt: new Date(),
  destination: { ton: 1, npi: 1, address: '447400123456' },
});

async function routed(ruleId: string, at: Date): Promise<void> {
  await h.producer.produce(
    h.topics.routed,
    SmsRouted.fromPartial({ message: message(), candidates: [{ connectorId: 'c1', ruleId }], routedAt: at }),
  );
}

async function rejected(ruleId: string, code: string, at: Date): Promise<void> {
  await h.producer.produce(
    h.topics.rejected,
    SmsRejected.fromPartial({ message: message(), ruleId, error: { code }, reason: 'test', rejectedAt: at }),
  );
}

beforeAll(() => h.setup(), 180_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await h.teardown();
});

describe('rule hits', () => {
  it('counts hits per routing and firewall rule over the last hour, day and a window', async () => {
    const now = Date.now();
    await routed('r_gb', new Date(now - 5_000));
    await routed('r_gb', new Date(now - 3_000));
    await routed('r_gb', new Date(now - 3 * 3600_000));
    await rejected('fw_words', 'FIREWALL_CONTENT', new Date(now - 2_000));
    await rejected('fw_speed', 'RATE_LIMITED', new Date(now - 30 * 3600_000));
    await rejected('r_block', 'ROUTE_BLOCKED', new Date(now - 1_000));
    await rejected('', 'INVALID_DESTINATION', new Date(now - 1_000));

    const res = await waitFor(
      async () => {
        const r = await ruleHits('operations', { windowSeconds: 4 * 3600 });
        const gb = r.rules.find((x) => x.ruleId === 'r_gb');
        const all = ['fw_words', 'fw_speed', 'r_block'].every((id) => r.rules.some((x) => x.ruleId === id));
        return gb?.hitsLastDay === 3n && all ? r : undefined;
      },
      { what: 'the rule hits counted', timeoutMs: 30_000 },
    );
    const by = new Map(res.rules.map((r) => [r.ruleId, r]));
    expect(by.get('r_gb')).toMatchObject({
      kind: 'routing',
      hitsLastHour: 2n,
      hitsLastDay: 3n,
      hitsWindow: 3n,
      lastHitAt: new Date(now - 3_000),
    });
    expect(by.get('fw_words')).toMatchObject({ kind: 'firewall', hitsLastHour: 1n, hitsLastDay: 1n });
    // Older than a day, within 7 days: listed with its last hit, no hit in the windows.
    expect(by.get('fw_speed')).toMatchObject({ kind: 'firewall', hitsLastDay: 0n, hitsWindow: 0n });
    expect(by.get('r_block')).toMatchObject({ kind: 'routing', hitsLastHour: 1n });
    expect(by.has('')).toBe(false);
    expect(res.rules[0]!.ruleId).toBe('r_gb');
    expect(res.windowSeconds).toBe(4 * 3600);

    const only = await ruleHits('admin', { ruleIds: ['fw_words'] });
    expect(only.rules.map((r) => r.ruleId)).toEqual(['fw_words']);
  });

  it('counts a replayed batch once', async () => {
    const batch = [
      { offset: '0', hit: { ruleId: 'r_replay', kind: 'routing' as const, at: new Date() } },
      { offset: '1', hit: { ruleId: 'r_replay', kind: 'routing' as const, at: new Date() } },
    ];
    expect(await h.stats.ruleHits.applyBatch('replay-topic', 0, batch)).toBe(2);
    expect(await h.stats.ruleHits.applyBatch('replay-topic', 0, batch)).toBe(0);
    const [row] = await h.stats.ruleHits.hits(3600, ['r_replay']);
    expect(row).toMatchObject({ hitsLastHour: 2n });
  });

  it('is for config.read roles: finance and customer tokens are refused', async () => {
    for (const role of ['finance', 'customer'] as const)
      await expect(ruleHits(role)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    await expect(ruleHits('admin', { windowSeconds: 10 })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });
});
