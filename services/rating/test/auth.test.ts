// Attacks on rating's SettlementService over real gRPC: every method without a token, with an unknown one
// and as each role; a customer token reads its own account's customer totals only (no margin, no
// per-message export, no supplier figures).
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearerInterceptor,
  generateSecret,
  hashSecret,
  probeMethods,
  probeViolations,
  ROLES,
  type Role,
} from '@smshub/auth';
import {
  SettlementParty,
  SettlementPeriod,
  SettlementServiceClient,
  SettlementServiceService,
  type ExportCsvRequest,
  type GetTotalsResponse,
  type SettlementQuery,
} from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import type { Rating } from '../src/rating.js';
import { accepted, context, createHarness, NEW, type Harness } from './harness.js';

let h: Harness & { db: { drop(): Promise<void> } };
let rating: Rating;
const secrets = {} as Record<Role, string>;

const day = 86_400_000;
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const query = (over: Partial<SettlementQuery> = {}): SettlementQuery => ({
  party: SettlementParty.SETTLEMENT_PARTY_CUSTOMER,
  partyId: '',
  period: SettlementPeriod.SETTLEMENT_PERIOD_DAY,
  startTime: new Date(today - day),
  endTime: new Date(today + 2 * day),
  byDestination: false,
  ...over,
});

function client(secret: string): SettlementServiceClient {
  return new SettlementServiceClient(`127.0.0.1:${rating.grpcPort}`, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(secret)],
  });
}

function getTotals(secret: string, q: SettlementQuery): Promise<GetTotalsResponse> {
  const c = client(secret);
  return new Promise((resolve, reject) =>
    c.getTotals({ query: q, pageSize: 0, pageToken: '' }, (err, res) => {
      c.close();
      return err ? reject(err) : resolve(res);
    }),
  );
}

async function exportCsv(secret: string, req: ExportCsvRequest): Promise<string> {
  const c = client(secret);
  try {
    const chunks: Buffer[] = [];
    for await (const r of c.exportCsv(req)) chunks.push(Buffer.from((r as { chunk: Uint8Array }).chunk));
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  h = await createHarness();
  rating = await h.startRating();
  for (const role of ROLES) {
    const secret = generateSecret();
    await h.pool.query(
      'INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, $3, $4, $5)',
      [randomUUID(), hashSecret(secret), role, role, role === 'customer' ? h.accounts.usd : null],
    );
    secrets[role] = secret;
  }
  // One rated message for each of two accounts.
  for (const a of [h.accounts.usd, h.accounts.submit]) {
    await h.producer.produce(
      h.topics.dispatched,
      accepted(context(a, '4917612340000', NEW, { country: 'DE' })),
    );
  }
  await waitFor(
    async () => {
      const r = await h.pool.query<{ n: number }>(
        'SELECT count(DISTINCT account_id)::int AS n FROM rating_cdrs WHERE rated_at >= $1',
        [new Date(today - day)],
      );
      return r.rows[0]!.n >= 2 ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'CDRs of both accounts' },
  );
}, 120_000);

afterAll(async () => {
  await rating?.stop();
  await h?.close();
});

const probe = (token: string | null) =>
  probeMethods({
    address: `127.0.0.1:${rating.grpcPort!}`,
    definitions: [SettlementServiceService as unknown as grpc.ServiceDefinition],
    token,
  });

describe('SettlementService authentication', () => {
  it('refuses every method without a token and with an unknown token', async () => {
    const none = await probe(null);
    expect(none.length).toBe(Object.keys(SettlementServiceService).length);
    expect(probeViolations(none, null)).toEqual([]);
    expect(probeViolations(await probe(generateSecret()), null)).toEqual([]);
  });

  it.each(ROLES)(
    'answers a %s token as its role allows (PERMISSION_DENIED naming the role needed)',
    async (role) => {
      expect(probeViolations(await probe(secrets[role]), role)).toEqual([]);
    },
  );

  it('keeps money from operations', async () => {
    await expect(getTotals(secrets.operations, query())).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/needs role admin, finance or customer \(own account only\)/) as unknown,
    });
  });
});

describe('customer tokens', () => {
  it('read their own customer totals only, without margins', async () => {
    const all = await getTotals(secrets.finance, query());
    expect(new Set(all.totals.map((t) => t.partyId))).toEqual(new Set([h.accounts.usd, h.accounts.submit]));
    expect(all.totals.some((t) => t.margin !== undefined)).toBe(true);

    const own = await getTotals(secrets.customer, query());
    expect(own.totals.length).toBeGreaterThan(0);
    expect(own.totals.every((t) => t.partyId === h.accounts.usd)).toBe(true);
    expect(own.totals.every((t) => t.margin === undefined)).toBe(true);
    const explicit = await getTotals(secrets.customer, query({ partyId: h.accounts.usd }));
    expect(explicit.totals).toEqual(own.totals);

    await expect(getTotals(secrets.customer, query({ partyId: h.accounts.submit }))).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    await expect(
      getTotals(secrets.customer, query({ party: SettlementParty.SETTLEMENT_PARTY_SUPPLIER })),
    ).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });

    const csv = await exportCsv(secrets.customer, { query: query(), perMessage: false });
    expect(csv).toContain(h.accounts.usd);
    expect(csv).not.toContain(h.accounts.submit);
    await expect(exportCsv(secrets.customer, { query: query(), perMessage: true })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/per-message export needs role admin or finance/) as unknown,
    });
  });
});
