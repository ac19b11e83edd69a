// GET /v1/messages against the real dlr: http-api, admin, routing, egress, dlr and rating as real processes
// (libs/testing startHub, the demo configuration with DEMO_PROFILE=bench: every message delivered at once)
// and the SMSC simulator. A message sent over HTTP is followed to its final status through the customer's
// own API, and another customer cannot see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountState, BillingMode, ChargeOn, TokenRole, TrafficType } from '@smshub/contracts';
import {
  createTestDatabase,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';

// A UK number (demo sell rate GB: EUR 0.04 per segment).
const UK = '447400123456';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    demoProfile: 'bench',
    services: ['admin', 'routing', 'egress', 'dlr', 'rating', 'http-api'],
    // tsx compiles each service's sources at start: slow when the machine is busy.
    readyTimeoutMs: 300_000,
  });
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
}, 400_000);

afterAll(async () => {
  admin?.close();
  await hub?.stop();
  await db?.drop();
}, 120_000);

function api(): AdminApi {
  if (!admin) throw new Error('no admin client');
  return admin;
}

describe('a customer over HTTP (http-api -> the whole flow -> dlr)', { timeout: 240_000 }, () => {
  /** A customer API key of `accountId`, made through the admin API (as `hubctl api-keys create`). */
  async function apiKey(accountId: string): Promise<string> {
    const res = await api().call('createToken', {
      name: 'e2e http',
      role: TokenRole.TOKEN_ROLE_CUSTOMER,
      accountId,
    });
    expect(res.secret).toBeTruthy();
    return res.secret;
  }
  const http = async (key: string, route: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${hub!.ports.httpApi}${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  it("shows a message sent over HTTP (priced in the 202) with its status, parts and timeline from the real dlr; another account's key gets 404", async () => {
    const accounts = await api().call('listAccounts', { pageSize: 1000, pageToken: '', state: 0 });
    const demo = accounts.accounts.find((a) =>
      a.smppCredentials.some((c) => c.systemId === hub!.secrets.demoSystemId),
    );
    expect(demo?.id).toBeTruthy();
    const key = await apiKey(demo!.id);
    const text = 'Your code is 123456. '.repeat(8); // 168 GSM characters: 2 segments
    const sent = await http(key, '/v1/messages', {
      to: `+${UK}`,
      from: 'ACME',
      text,
      client_reference: 'e2e-http',
    });
    expect(sent.status).toBe(202);
    // The demo sell rate for GB is EUR 0.04 per segment: quoted at accept time.
    expect(sent.body).toMatchObject({
      status: 'accepted',
      segments: 2,
      price: { currency: 'EUR', amount: '0.080000' },
    });
    const id = sent.body.id as string;

    const view = await waitFor(
      async () => {
        const r = await http(key, `/v1/messages/${id}`);
        return r.status === 200 && r.body.final === true ? r.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'the message final in GET /v1/messages/{id}' },
    );
    expect(view).toMatchObject({
      id,
      status: 'delivered',
      final: true,
      to: `+${UK}`,
      from: 'ACME',
      segments: 2,
      client_reference: 'e2e-http',
    });
    const events = (view.timeline as { event: string }[]).map((e) => e.event);
    expect(events[0]).toBe('submitted');
    expect(events).toContain('routed');
    // egress split the one hub message into its two SMS parts: each dispatched and each receipted.
    expect(events.filter((e) => e === 'dispatched').length).toBeGreaterThanOrEqual(2);
    expect(events).toContain('status delivered');
    expect(events.indexOf('routed')).toBeLessThan(events.indexOf('dispatched'));
    // Once rating has priced it, GET shows the rated price (dlr keeps billing.rated.v1 in the timeline).
    const priced = await waitFor(
      async () => {
        const r = await http(key, `/v1/messages/${id}`);
        return r.status === 200 && r.body.price ? r.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the rated price in GET /v1/messages/{id}' },
    );
    expect(priced.price).toEqual({ currency: 'EUR', amount: '0.080000' });

    // Another account's key: the same id does not exist for it.
    const created = await api().call('createAccount', {
      account: {
        id: '',
        name: 'e2e: another HTTP customer',
        state: AccountState.ACCOUNT_STATE_ACTIVE,
        billingMode: BillingMode.BILLING_MODE_POSTPAID,
        currencyCode: 'EUR',
        smppCredentials: [
          {
            systemId: 'e2ehttp2',
            passwordHash: '',
            allowedCidrs: [],
            maxBinds: 1,
            maxSubmitRate: 10,
            windowSize: 10,
            password: 'Htt9Oth',
          },
        ],
        defaultTrafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
        allowedSources: [],
        receiptIncludeText: false,
        messageIdFormat: '',
        revision: 0n,
        routingGroup: '',
        defaultCountry: 'GB',
        pricePlanId: '',
        defaultValiditySeconds: 0,
        chargeOn: ChargeOn.CHARGE_ON_SUBMIT,
        refuseUnrated: false,
      },
    });
    const other = await apiKey(created.account!.id);
    const foreign = await waitFor(
      async () => {
        const r = await http(other, `/v1/messages/${id}`);
        // The new account and key reach http-api's caches first (401/403 until then).
        return r.status === 200 || r.status === 404 ? r : undefined;
      },
      { timeoutMs: 30_000, what: 'an answer about the message for the other account' },
    );
    expect(foreign.status).toBe(404);
    expect(foreign.body.type).toBe('urn:smshub:problem:not-found');
    expect((await http(key, `/v1/messages/${id}`)).status).toBe(200);
    expect(hub!.crashes()).toEqual([]);
  });
});
