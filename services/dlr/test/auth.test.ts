// Attacks on dlr's MessageService over real gRPC: every method without a token, with an unknown one and as
// each role; a customer token reads its own account's messages only; a revoked token stops working within
// AUTH_CACHE_TTL_MS.
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
  BillingRated,
  MessageServiceClient,
  MessageServiceService,
  RatedStatus,
  type GetMessageRequest,
  type GetMessageResponse,
  type ListMessagesRequest,
} from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();
const A = randomUUID();
const B = randomUUID();
const secrets = {} as Record<Role, string>;
const msgA = uuidv7();
const msgB = uuidv7();

async function insertToken(role: Role, accountId: string | null): Promise<{ id: string; secret: string }> {
  const secret = generateSecret();
  const id = randomUUID();
  await h.pool.query(
    'INSERT INTO auth_tokens (id, token_hash, name, role, account_id) VALUES ($1, $2, $3, $4, $5)',
    [id, hashSecret(secret), `${role}-test`, role, accountId],
  );
  return { id, secret };
}

function client(secret: string): MessageServiceClient {
  return new MessageServiceClient(`127.0.0.1:${h.dlr.grpcPort}`, grpc.credentials.createInsecure(), {
    interceptors: [bearerInterceptor(secret)],
  });
}

function getMessage(secret: string, req: Partial<GetMessageRequest>) {
  const c = client(secret);
  return new Promise((resolve, reject) =>
    c.getMessage({ messageId: '', customerMessageId: '', accountId: '', ...req }, (err, res) => {
      c.close();
      return err ? reject(err) : resolve(res);
    }),
  );
}

function listMessages(secret: string, req: Partial<ListMessagesRequest>) {
  const c = client(secret);
  return new Promise<{ messages: { context?: { accountId: string; messageId: string } }[] }>(
    (resolve, reject) =>
      c.listMessages(
        { accountId: '', statuses: [], destinationPrefix: '', pageSize: 0, pageToken: '', ...req },
        (err, res) => {
          c.close();
          return err ? reject(err) : resolve(res);
        },
      ),
  );
}

beforeAll(async () => {
  await h.setup();
  for (const [id, sys] of [
    [A, 'authA'],
    [B, 'authB'],
  ]) {
    await h.pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, $2, '$argon2id$x', 'EUR')`,
      [id, sys],
    );
  }
  for (const role of ROLES) secrets[role] = (await insertToken(role, role === 'customer' ? A : null)).secret;
  await h.submit({ hubId: msgA, accountId: A });
  await h.submit({ hubId: msgB, accountId: B });
  await waitFor(async () => ((await h.row(msgA)) && (await h.row(msgB)) ? true : undefined), {
    timeoutMs: 30_000,
    what: 'both messages stored',
  });
}, 120_000);
afterAll(() => h.teardown());

const probe = (token: string | null) =>
  probeMethods({
    address: `127.0.0.1:${h.dlr.grpcPort}`,
    definitions: [MessageServiceService as unknown as grpc.ServiceDefinition],
    token,
  });

describe('MessageService authentication', () => {
  it('refuses every method without a token and with an unknown token', async () => {
    const none = await probe(null);
    expect(none.map((r) => r.path).sort()).toEqual(
      Object.values(MessageServiceService)
        .map((m) => m.path)
        .sort(),
    );
    expect(probeViolations(none, null)).toEqual([]);
    expect(probeViolations(await probe(generateSecret()), null)).toEqual([]);
  });

  it.each(ROLES)(
    'answers a %s token as its role allows (PERMISSION_DENIED naming the role needed)',
    async (role) => {
      expect(probeViolations(await probe(secrets[role]), role)).toEqual([]);
    },
  );

  it('keeps message contents from finance', async () => {
    await expect(getMessage(secrets.finance, { messageId: msgA })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringMatching(/GetMessage needs role admin, operations or customer/) as unknown,
    });
  });
});

describe('customer tokens', () => {
  it("read their own account's messages and nothing of another account", async () => {
    const own = (await getMessage(secrets.customer, { messageId: msgA })) as {
      message?: { context?: { accountId: string } };
    };
    expect(own.message?.context?.accountId).toBe(A);
    // Another account's message is as good as absent.
    await expect(getMessage(secrets.customer, { messageId: msgB })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    await expect(getMessage(secrets.customer, { messageId: msgB, accountId: B })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const range = { startTime: new Date(Date.now() - 3_600_000), endTime: new Date(Date.now() + 3_600_000) };
    await expect(listMessages(secrets.customer, { ...range, accountId: B })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const mine = await listMessages(secrets.customer, range);
    expect(mine.messages.map((m) => m.context?.messageId)).toEqual([msgA]);
    // Staff see both.
    const b = (await getMessage(secrets.operations, { messageId: msgB })) as {
      message?: { context?: { accountId: string } };
    };
    expect(b.message?.context?.accountId).toBe(B);
  });
});

describe('revocation', () => {
  it('refuses a revoked token within AUTH_CACHE_TTL_MS (2 s)', async () => {
    const t = await insertToken('operations', null);
    await getMessage(t.secret, { messageId: msgA });
    await h.pool.query('UPDATE auth_tokens SET revoked_at = now() WHERE id = $1', [t.id]);
    const err = await waitFor(
      () =>
        getMessage(t.secret, { messageId: msgA }).then(
          () => undefined,
          (e: grpc.ServiceError) => e,
        ),
      { timeoutMs: 5_000, what: 'the revoked token refused' },
    );
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toMatch(/revoked/);
  });
});

describe('the rated entry (billing.rated.v1) in the timeline', () => {
  it('shows admin everything, a customer only its price, operations no money', async () => {
    const eur = (micro: bigint) => ({ currencyCode: 'EUR', minorUnits: micro, scale: 6 });
    await h.producer.produce(
      h.topics.rated,
      BillingRated.fromPartial({
        messageId: msgA,
        revision: 1,
        accountId: A,
        connectorId: 'con_secret',
        supplierId: 'sup_secret',
        segments: 1,
        sell: eur(40_000n),
        buy: eur(25_000n),
        buyInSellCurrency: eur(25_000n),
        margin: eur(15_000n),
        buyRateId: 'buy_rate',
        sellRateId: 'sell_rate',
        status: RatedStatus.RATED_STATUS_CHARGED,
        ratedAt: new Date(),
      }),
    );
    const rated = (r: unknown) =>
      (r as GetMessageResponse).timeline.find((e) => e.event?.$case === 'rated')?.event?.value as
        BillingRated | undefined;
    const asAdmin = await waitFor(async () => rated(await getMessage(secrets.admin, { messageId: msgA })), {
      timeoutMs: 30_000,
      what: 'the rated entry in the timeline',
    });
    expect(asAdmin).toMatchObject({ connectorId: 'con_secret', buy: { minorUnits: 25_000n } });
    expect(asAdmin.margin?.minorUnits).toBe(15_000n);
    const asCustomer = rated(await getMessage(secrets.customer, { messageId: msgA }));
    expect(asCustomer?.sell).toMatchObject({ currencyCode: 'EUR', minorUnits: 40_000n });
    expect(asCustomer).toMatchObject({ connectorId: '', supplierId: '', buyRateId: '', sellRateId: '' });
    expect(asCustomer?.buy).toBeUndefined();
    expect(asCustomer?.buyInSellCurrency).toBeUndefined();
    expect(asCustomer?.margin).toBeUndefined();
    expect(rated(await getMessage(secrets.operations, { messageId: msgA }))).toBeUndefined();
  }, 60_000);

  it('keeps a rated record handled before the message it rates (rating charges at submit)', async () => {
    const early = uuidv7();
    await h.producer.produce(
      h.topics.rated,
      BillingRated.fromPartial({
        messageId: early,
        revision: 1,
        accountId: A,
        segments: 1,
        sell: { currencyCode: 'EUR', minorUnits: 40_000n, scale: 6 },
        status: RatedStatus.RATED_STATUS_CHARGED,
        ratedAt: new Date(),
      }),
    );
    // handled while dlr has no row for the message yet
    await waitFor(
      async () =>
        (await h.pool.query(`SELECT 1 FROM dlr_timeline WHERE message_id = $1 AND kind = 'rated'`, [early]))
          .rowCount === 1
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'the rated timeline row' },
    );
    expect(await h.row(early)).toBeUndefined();
    await h.submit({ hubId: early, accountId: A });
    const res = await waitFor(
      async () => {
        const r = (await getMessage(secrets.customer, { messageId: early }).catch(() => undefined)) as
          GetMessageResponse | undefined;
        return r?.timeline.some((e) => e.event?.$case === 'submitted') ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'the message stored' },
    );
    const entry = res.timeline.find((e) => e.event?.$case === 'rated')?.event?.value as
      BillingRated | undefined;
    expect(entry?.sell).toMatchObject({ currencyCode: 'EUR', minorUnits: 40_000n });
  }, 60_000);
});
