import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountBalance,
  ChangeAction,
  HoldReason,
  ResourceKind,
  SubmitChannel,
  TrafficType,
} from '@smshub/contracts';
import { uniqueName, waitFor } from '@smshub/testing';
import { requestHash } from '../src/idempotency.js';
import { call, Harness, type Replica } from './harness.js';

const P = 'urn:smshub:problem:';

describe('http-api over real HTTP, Kafka and PostgreSQL', () => {
  const h = new Harness();
  let a: Replica;
  let b: Replica;
  let account: string;
  let key: string;

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    a = await h.startReplica();
    b = await h.startReplica();
    account = await h.addAccount();
    key = await h.addKey(account);
  });
  afterAll(() => h.teardown());

  it('accepts a message with 202 and publishes ONE sms.submitted.v1 event on the HTTP channel', async () => {
    const text = 'Your code is 123456. '.repeat(10); // 210 GSM characters: 2 segments
    const r = await call(`${a.url}/v1/messages`, {
      key,
      body: {
        to: '+447400123456',
        from: 'ACME',
        text,
        traffic_type: 'otp',
        client_reference: 'order-42',
        callback_url: 'https://example.com/dlr',
      },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'accepted', segments: 2, encoding: 'gsm7', price: null });
    expect(r.body.client_reference).toBe('order-42');
    const ev = await waitFor(() => h.submitted.get(r.body.id));
    expect(ev.channel).toBe(SubmitChannel.SUBMIT_CHANNEL_HTTP);
    expect(ev.accountId).toBe(account);
    expect(ev.destination).toEqual({ ton: 1, npi: 1, address: '447400123456' });
    expect(ev.source).toEqual({ ton: 5, npi: 0, address: 'ACME' });
    expect(ev.fromMessagePayload).toBe(true);
    expect(ev.concat).toBeUndefined();
    expect(ev.dataCoding).toBe(0);
    expect(Buffer.from(ev.shortMessage).length).toBe(text.length);
    expect(ev.trafficType).toBe(TrafficType.TRAFFIC_TYPE_OTP);
    expect(ev.callbackUrl).toBe('https://example.com/dlr');
    expect(ev.clientReference).toBe('order-42');
    expect(ev.registeredDelivery).toBe(1);
  });

  it('send_at: a future time holds the message (sms.scheduled.v1, hold_until); a past one sends it now; after the validity end or malformed: 400', async () => {
    const at = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000);
    // The same instant written with an offset of +01:00.
    const local = new Date(at.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
    const held = await call(`${a.url}/v1/messages`, {
      key,
      body: { to: '+447400123456', from: 'ACME', text: 'later', send_at: local },
    });
    expect(held.status).toBe(202);
    const ev = await waitFor(() => h.scheduled.get(held.body.id));
    expect(ev.holdUntil?.toISOString()).toBe(at.toISOString());
    expect(ev.scheduleAt?.toISOString()).toBe(at.toISOString());
    expect(ev.holdReason).toBe(HoldReason.HOLD_REASON_SCHEDULE);

    const now = await call(`${a.url}/v1/messages`, {
      key,
      body: { to: '+447400123456', from: 'ACME', text: 'past', send_at: '2020-01-01T00:00:00Z' },
    });
    expect(now.status).toBe(202);
    const sent = await waitFor(() => h.submitted.get(now.body.id));
    expect(sent.holdUntil).toBeUndefined();

    const tooLate = await call(`${a.url}/v1/messages`, {
      key,
      body: { to: '+447400123456', from: 'ACME', text: 'x', validity: 600, send_at: at.toISOString() },
    });
    expect(tooLate.status).toBe(400);
    expect(tooLate.body.errors[0].pointer).toBe('/send_at');
    const bad = await call(`${a.url}/v1/messages`, {
      key,
      body: { to: '+447400123456', from: 'ACME', text: 'x', send_at: 'tomorrow' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe(`${P}validation-failed`);
  });

  it("states the price: the account's prefix rate, else its plan's country rate, × segments; null without a rate; a rate change applies", async () => {
    const priced = await h.addAccount();
    const pricedKey = await h.addKey(priced);
    const plan = uniqueName('plan');
    await h.pool.query(`INSERT INTO rating_price_plans (id) VALUES ($1)`, [plan]);
    await h.pool.query(`UPDATE accounts SET price_plan_id = $1 WHERE id = $2`, [plan, priced]);
    const rate = (
      owner: 'account' | 'plan',
      ownerId: string,
      m: { prefix?: string; country?: string },
      amount: number,
      currency = 'EUR',
    ) =>
      h.pool.query(
        `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, country, price_amount, price_scale, currency, effective_from)
         VALUES ($1, $2, $3, $4, $5, $6, 6, $7, now() - interval '1 day')`,
        [uniqueName('rate'), owner, ownerId, m.prefix ?? null, m.country ?? null, amount, currency],
      );
    await rate('account', priced, { prefix: '4474' }, 35_000); // EUR 0.035 per segment
    await rate('account', priced, { prefix: '44' }, 90_000); // shorter: not used for 4474...
    await rate('plan', plan, { country: 'DE' }, 71_500, 'USD'); // the plan's rate for Germany
    await rate('plan', plan, { prefix: '4474' }, 10_000); // the account's own rate wins over the plan's
    const change = () =>
      h.producer.produce(h.topics.configChanges, {
        changeId: uniqueName('change'),
        kind: ResourceKind.RESOURCE_KIND_RATE,
        resourceId: '*',
        action: ChangeAction.CHANGE_ACTION_RELOAD,
        revision: 1n,
        changedAt: new Date(),
        actor: 'test',
        snapshot: undefined,
      });
    await change();
    for (const r of [a, b]) await r.api.accounts.reload();
    const send = (to: string, text = 'price check') =>
      call(`${a.url}/v1/messages`, { key: pricedKey, body: { to, from: 'ACME', text } });

    const gb = await waitFor(
      async () => {
        const r = await send('+447400123456', 'x'.repeat(200)); // 2 segments
        return r.body.price ? r : undefined;
      },
      { what: 'a priced answer (rates loaded)' },
    );
    expect(gb.status).toBe(202);
    expect(gb.body).toMatchObject({ segments: 2, price: { currency: 'EUR', amount: '0.070000' } });
    expect((await send('+4915112345678')).body.price).toEqual({ currency: 'USD', amount: '0.071500' });
    expect((await send('+33612345678')).body.price).toBeNull(); // no rate for France anywhere
    // The same 202 for a key that has no rates at all.
    expect(
      (await call(`${a.url}/v1/messages`, { key, body: { to: '+447400123456', from: 'ACME', text: 'x' } }))
        .body.price,
    ).toBeNull();

    // A new rate reaches the answer through config.changes.v1 (RESOURCE_KIND_RATE).
    await rate('account', priced, { country: 'FR' }, 50_000);
    await change();
    await waitFor(async () => (await send('+33612345678')).body.price?.amount === '0.050000', {
      what: 'the new French rate quoted',
    });
  });

  it('sends a text outside the GSM alphabet as UCS2 and counts its segments', async () => {
    const r = await call(`${a.url}/v1/messages`, {
      key,
      body: { to: '+4915112345678', from: '+447700900001', text: 'Привет 👋' },
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ segments: 1, encoding: 'ucs2' });
    const ev = await waitFor(() => h.submitted.get(r.body.id));
    expect(ev.dataCoding).toBe(8);
    expect(ev.source).toEqual({ ton: 1, npi: 1, address: '447700900001' });
  });

  describe('authentication', () => {
    it('401 unauthenticated without a key, with a malformed header and with an unknown or revoked key', async () => {
      const body = { to: '+447400123456', from: 'ACME', text: 'hi' };
      const variants: Array<Record<string, string>> = [
        {},
        { authorization: 'Basic abc' },
        { authorization: 'Bearer smshub_nope' },
      ];
      for (const headers of variants) {
        const r = await call(`${a.url}/v1/messages`, { body, headers });
        expect(r.status).toBe(401);
        expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(r.body).toMatchObject({ type: `${P}unauthenticated`, status: 401 });
      }
      const revoked = await h.addKey(account);
      expect((await call(`${a.url}/v1/balance`, { key: revoked })).status).toBe(200);
      await h.pool.query(
        `UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = encode(sha256($1::bytea), 'hex')`,
        [revoked],
      );
      await waitFor(async () => (await call(`${a.url}/v1/balance`, { key: revoked })).status === 401);
    });

    it('403 forbidden for a key that is not a customer key, and from an address outside the allow list', async () => {
      const ops = await h.addKey(null, 'operations');
      const r = await call(`${a.url}/v1/balance`, { key: ops });
      expect(r.status).toBe(403);
      expect(r.body.type).toBe(`${P}forbidden`);

      const fenced = await h.addAccount({ allowedCidrs: ['10.99.0.0/16'] });
      const fencedKey = await h.addKey(fenced);
      const f = await call(`${a.url}/v1/messages`, {
        key: fencedKey,
        body: { to: '+447400123456', from: 'ACME', text: 'x' },
      });
      expect(f.status).toBe(403);
      expect(f.body.type).toBe(`${P}forbidden`);
      expect(f.body.detail).toMatch(/127\.0\.0\.1/);

      const open = await h.addAccount({ allowedCidrs: ['127.0.0.0/8'] });
      const openKey = await h.addKey(open);
      const o = await call(`${a.url}/v1/messages`, {
        key: openKey,
        body: { to: '+447400123456', from: 'ACME', text: 'x' },
      });
      expect(o.status).toBe(202);
    });
  });

  describe('problem types', () => {
    const send = (body: unknown, extra: { key?: string; headers?: Record<string, string> } = {}) =>
      call(`${a.url}/v1/messages`, {
        key: extra.key ?? key,
        body,
        ...(extra.headers ? { headers: extra.headers } : {}),
      });

    it('validation-failed names the offending fields', async () => {
      const r = await send({ to: '+447400123456', text: 'x', colour: 'red' });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe(`${P}validation-failed`);
      const pointers = r.body.errors.map((e: { pointer: string }) => e.pointer);
      expect(pointers).toEqual(expect.arrayContaining(['/from', '/colour']));
      const enc = await send({ to: '+447400123456', from: 'ACME', text: 'x', encoding: 'latin9' });
      expect(enc.body.type).toBe(`${P}validation-failed`);
      const gsm = await send({ to: '+447400123456', from: 'ACME', text: 'Привет', encoding: 'gsm7' });
      expect(gsm.status).toBe(400);
      expect(gsm.body.errors[0].pointer).toBe('/encoding');
      const badJson = await call(`${a.url}/v1/messages`, { key, raw: '{"to":' });
      expect(badJson.status).toBe(400);
      expect(badJson.body.type).toBe(`${P}validation-failed`);
    });

    it('invalid-number and invalid-sender', async () => {
      for (const to of ['447400123456', '+44', '+0123456789', '+999999999999999']) {
        const r = await send({ to, from: 'ACME', text: 'x' });
        expect(r.status, to).toBe(400);
        expect(r.body.type, to).toBe(`${P}invalid-number`);
      }
      const s = await send({ to: '+447400123456', from: 'ThisIsTooLongASender', text: 'x' });
      expect(s.body.type).toBe(`${P}validation-failed`); // longer than the schema's 16
      const s2 = await send({ to: '+447400123456', from: 'ACME!BANK', text: 'x' });
      expect(s2.status).toBe(400);
      expect(s2.body.type).toBe(`${P}invalid-sender`);
    });

    it('unsupported-media-type, payload-too-large and not-found', async () => {
      const r = await call(`${a.url}/v1/messages`, {
        key,
        raw: 'to=1',
        headers: { 'content-type': 'text/plain' },
      });
      expect(r.status).toBe(415);
      expect(r.body.type).toBe(`${P}unsupported-media-type`);
      const big = await send({ to: '+447400123456', from: 'ACME', text: 'x'.repeat(5 * 1024 * 1024) });
      expect(big.status).toBe(413);
      expect(big.body.type).toBe(`${P}payload-too-large`);
      const nf = await call(`${a.url}/v2/nothing`, { key });
      expect(nf.status).toBe(404);
      expect(nf.body.type).toBe(`${P}not-found`);
    });

    it('insufficient-balance once balances.v1 blocks the account, and sending again once it is unblocked', async () => {
      const poor = await h.addAccount();
      const poorKey = await h.addKey(poor);
      const balance = (revision: bigint, blocked: boolean) =>
        AccountBalance.fromPartial({ accountId: poor, blocked, revision });
      await h.producer.produce(h.topics.balances, balance(1n, true));
      const r = await waitFor(
        async () => {
          const x = await send({ to: '+447400123456', from: 'ACME', text: 'x' }, { key: poorKey });
          return x.status === 402 ? x : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(r.body.type).toBe(`${P}insufficient-balance`);
      const bal = await call(`${a.url}/v1/balance`, { key: poorKey });
      expect(bal.body).toMatchObject({ account_id: poor, blocked: true });
      await h.producer.produce(h.topics.balances, balance(2n, false));
      await waitFor(
        async () =>
          (await send({ to: '+447400123456', from: 'ACME', text: 'x' }, { key: poorKey })).status === 202,
        {
          timeoutMs: 20_000,
          intervalMs: 200,
        },
      );
    });

    it('rate-limited with Retry-After beyond the account TPS limit', async () => {
      const slow = await h.addAccount({ tpsLimit: 2 });
      const slowKey = await h.addKey(slow);
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          send({ to: '+447400123456', from: 'ACME', text: 'x' }, { key: slowKey }),
        ),
      );
      const limited = results.filter((r) => r.status === 429);
      expect(results.filter((r) => r.status === 202).length).toBeGreaterThanOrEqual(1);
      expect(limited.length).toBeGreaterThanOrEqual(3);
      expect(limited[0]!.body.type).toBe(`${P}rate-limited`);
      expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });
  });

  describe('Idempotency-Key', () => {
    it('a retry on ANOTHER replica returns the first answer and creates nothing; a different body gets 422', async () => {
      const body = { to: '+447400123456', from: 'ACME', text: 'pay 10 EUR' };
      const headers = { 'idempotency-key': 'k-' + Date.now() };
      const first = await call(`${a.url}/v1/messages`, { key, body, headers });
      expect(first.status).toBe(202);
      // Same body with its keys in another order: the same request.
      const again = await call(`${b.url}/v1/messages`, {
        key,
        body: { text: body.text, from: body.from, to: body.to },
        headers,
      });
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const other = await call(`${b.url}/v1/messages`, {
        key,
        body: { ...body, text: 'pay 99 EUR' },
        headers,
      });
      expect(other.status).toBe(422);
      expect(other.body.type).toBe(`${P}idempotency-key-reused`);
      // A later message proves the topic has moved on; only one event carries the first text.
      const later = await call(`${a.url}/v1/messages`, { key, body: { ...body, text: 'marker' } });
      await waitFor(() => h.submitted.get(later.body.id));
      const copies = [...h.submitted.values()].filter(
        (e) => e.accountId === account && Buffer.from(e.shortMessage).toString('latin1') === 'pay 10 EUR',
      );
      expect(copies.map((e) => e.messageId)).toEqual([first.body.id]);
    });

    it('concurrent requests with one key on two replicas: one message; the other waits for its answer or gets 409', async () => {
      const body = { to: '+447400123456', from: 'ACME', text: 'concurrent' };
      const headers = { 'idempotency-key': 'c-' + Date.now() };
      const [x, y] = await Promise.all([
        call(`${a.url}/v1/messages`, { key, body, headers }),
        call(`${b.url}/v1/messages`, { key, body, headers }),
      ]);
      const statuses = [x.status, y.status].sort();
      expect([
        [202, 202],
        [202, 409],
      ]).toContainEqual(statuses);
      const ok = [x, y].filter((r) => r.status === 202);
      for (const r of ok) expect(r.body.id).toBe(ok[0]!.body.id);
      for (const r of [x, y].filter((q) => q.status === 409)) {
        expect(r.body.type).toBe(`${P}idempotency-in-progress`);
        expect(r.headers.get('retry-after')).toBe('1');
      }
    });

    it('409 idempotency-in-progress while the first request holds the key', async () => {
      const body = { to: '+447400123456', from: 'ACME', text: 'held' };
      const k = 'held-' + Date.now();
      // Another replica reserved this key a moment ago and is still working on it.
      await h.pool.query(
        `INSERT INTO http_api_idempotency (account_id, idem_key, request_hash, state, message_ids, owner)
         VALUES ($1, $2, $3, 'pending', '{}', 'elsewhere')`,
        // The hash covers the body after the schema's defaults (encoding "auto" sent or not is one request).
        [account, k, requestHash('POST', '/v1/messages', { ...body, encoding: 'auto' })],
      );
      const r = await call(`${a.url}/v1/messages`, { key, body, headers: { 'idempotency-key': k } });
      expect(r.status).toBe(409);
      expect(r.body.type).toBe(`${P}idempotency-in-progress`);
    });

    it('a refused request (rate limited) does not hold the key: its retry is accepted', async () => {
      const one = await h.addAccount({ tpsLimit: 1 });
      const oneKey = await h.addKey(one);
      const body = { to: '+447400123456', from: 'ACME', text: 'x' };
      expect((await call(`${a.url}/v1/messages`, { key: oneKey, body })).status).toBe(202);
      const headers = { 'idempotency-key': 'rl-' + Date.now() };
      const limited = await call(`${a.url}/v1/messages`, { key: oneKey, body, headers });
      expect(limited.status).toBe(429);
      const retried = await waitFor(
        async () => {
          const r = await call(`${a.url}/v1/messages`, { key: oneKey, body, headers });
          return r.status === 202 ? r : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 300 },
      );
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
    });
  });

  it('batch: per-message results, the valid ones accepted, the others with their own problem', async () => {
    const r = await call(`${a.url}/v1/messages/batch`, {
      key,
      body: {
        messages: [
          { to: '+447400123456', from: 'ACME', text: 'one' },
          { to: 'not-a-number', from: 'ACME', text: 'two' },
          { to: '+447400123457', text: 'three' },
          { to: '+33612345678', from: 'ACME', text: 'four', client_reference: 'r4' },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 2, rejected: 2 });
    const [one, two, three, four] = r.body.results;
    expect(one).toMatchObject({ index: 0, message: { status: 'accepted' } });
    expect(two).toMatchObject({ index: 1, problem: { type: `${P}invalid-number` } });
    expect(three).toMatchObject({ index: 2, problem: { type: `${P}validation-failed` } });
    expect(four).toMatchObject({ index: 3, message: { client_reference: 'r4' } });
    await waitFor(() => h.submitted.get(one.message.id) && h.submitted.get(four.message.id));
    const tooMany = await call(`${a.url}/v1/messages/batch`, {
      key,
      body: {
        messages: Array.from({ length: 1001 }, () => ({ to: '+447400123456', from: 'ACME', text: 'x' })),
      },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.type).toBe(`${P}validation-failed`);
  });

  it('GET /v1/balance answers for the caller account', async () => {
    const r = await call(`${a.url}/v1/balance`, { key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ account_id: account, blocked: false, currency: 'EUR' });
  });
});
