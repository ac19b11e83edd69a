// The webhooks service over real Kafka (isolated topics), PostgreSQL (a fresh database) and HTTP (a real
// receiver on loopback): signatures (and two during a rotation), retries after 500 and after the receiver
// was down, order per message, no head-of-line blocking between accounts, restart mid-retry, replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { DeliveryStatus, WebhookDeliveryState } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { verifySignature } from '../src/domain/signature.js';
import { Harness, uuidv7 } from './harness.js';
import { Receiver } from './receiver.js';

const h = new Harness();
const rx = new Receiver();

beforeAll(async () => {
  await rx.start();
  await h.setup();
}, 120_000);

afterAll(async () => {
  await h.teardown();
  await rx.stop();
});

let n = 0;
/** A fresh account whose endpoint is `rx`'s path /<account>; returns its id, path and signing secret. */
async function account(opts: { includeIntermediate?: boolean } = {}) {
  const accountId = `acc_${++n}_${Date.now().toString(36)}`;
  const path = `/${accountId}`;
  const { newSecret } = await h.webhooks.endpoints.set({
    accountId,
    url: rx.url(path),
    includeIntermediate: opts.includeIntermediate ?? false,
    enabled: true,
  });
  return { accountId, path, secret: newSecret! };
}

const forPath = (path: string) => rx.received.filter((r) => r.path === path);

describe('signed delivery receipts', () => {
  it('POSTs the final status as JSON signed with the account secret; intermediate only when asked', async () => {
    const a = await account();
    const b = await account({ includeIntermediate: true });
    const m1 = uuidv7();
    const m2 = uuidv7();
    for (const [acc, m] of [
      [a, m1],
      [b, m2],
    ] as const) {
      await h.delivery({
        messageId: m,
        accountId: acc.accountId,
        status: DeliveryStatus.DELIVERY_STATUS_ENROUTE,
        final: false,
        revision: 1,
      });
      await h.delivery({ messageId: m, accountId: acc.accountId, revision: 2 });
    }
    await waitFor(() => forPath(b.path).length === 2 && forPath(a.path).length === 1, {
      timeoutMs: 30_000,
      what: 'both webhooks',
    });
    // a: only the final one (it did not ask for intermediate statuses)
    const [req] = forPath(a.path);
    expect(req!.headers['content-type']).toBe('application/json');
    expect(
      verifySignature({
        header: req!.headers['smshub-signature'] as string,
        body: req!.body,
        secrets: [a.secret],
      }),
    ).toMatchObject({ ok: true });
    // the wrong secret, or a changed body, does not verify
    expect(
      verifySignature({
        header: req!.headers['smshub-signature'] as string,
        body: req!.body,
        secrets: [b.secret],
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    expect(
      verifySignature({
        header: req!.headers['smshub-signature'] as string,
        body: req!.body.replace('DELIVERED', 'EXPIRED'),
        secrets: [a.secret],
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
    const body = JSON.parse(req!.body) as { id: string; type: string; data: Record<string, unknown> };
    expect(body.type).toBe('message.status');
    expect(req!.headers['smshub-delivery-id']).toBe(body.id);
    expect(body.data).toMatchObject({
      message_id: m1,
      account_id: a.accountId,
      status: 'DELIVERED',
      final: true,
      revision: 2,
      to: '447400123456',
      from: 'ACME',
    });
    // b: ENROUTE then DELIVERED, in that order
    expect(rx.bodies(b.path).map((x) => x.data.status)).toEqual(['ENROUTE', 'DELIVERED']);
  });

  it("POSTs to the message's callback_url instead of the account URL, signed with the account secret", async () => {
    const a = await account();
    const cb = `${a.path}-callback`;
    const m = uuidv7();
    await h.delivery({
      messageId: m,
      accountId: a.accountId,
      callbackUrl: rx.url(cb),
      clientReference: 'order-42',
    });
    await waitFor(() => forPath(cb).length === 1, { timeoutMs: 30_000, what: 'the callback' });
    const [req] = forPath(cb);
    expect(
      verifySignature({
        header: req!.headers['smshub-signature'] as string,
        body: req!.body,
        secrets: [a.secret],
      }),
    ).toMatchObject({ ok: true });
    expect(rx.bodies(cb)[0]!.data).toMatchObject({ message_id: m, client_reference: 'order-42' });
    expect(forPath(a.path)).toHaveLength(0);
  });

  it('signs with both secrets during a rotation: a receiver with either one verifies', async () => {
    const a = await account();
    const rotated = await h.webhooks.endpoints.rotate(a.accountId, 3_600_000);
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: a.accountId });
    await waitFor(() => forPath(a.path).length === 1, { timeoutMs: 30_000, what: 'the webhook' });
    const [req] = forPath(a.path);
    const header = req!.headers['smshub-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature({ header, body: req!.body, secrets: [a.secret] })).toMatchObject({ ok: true });
    expect(verifySignature({ header, body: req!.body, secrets: [rotated!.newSecret] })).toMatchObject({
      ok: true,
    });
    expect(verifySignature({ header, body: req!.body, secrets: ['whsec_other'] })).toMatchObject({
      ok: false,
    });
  });
});

describe('retries', () => {
  it('retries after the receiver answers 500 until it answers 2xx; every attempt is listed', async () => {
    const a = await account();
    rx.behaviour = (r, nth) => (r.path === a.path && nth <= 2 ? 500 : 200);
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: a.accountId });
    await waitFor(
      async () => (await h.webhooks.deliveries.deliveriesOfMessage(m))[0]?.state === 'delivered',
      {
        timeoutMs: 30_000,
        what: 'delivered after two 500s',
      },
    );
    expect(forPath(a.path)).toHaveLength(3);
    // the same body (and delivery id) every time
    expect(new Set(forPath(a.path).map((r) => r.body)).size).toBe(1);
    const [d] = await h.webhooks.deliveries.deliveriesOfMessage(m);
    const attempts = await h.webhooks.deliveries.attempts([d!.id]);
    expect(attempts.map((x) => x.http_status)).toEqual([500, 500, 200]);
    // exponential back-off (base 300 ms, doubled, +-20 %): no retry came before its wait, and the second
    // waited longer than any first wait can (360 ms). Lower bounds only: a busy machine makes every gap
    // longer by its own delays, never shorter, so comparing the two gaps with each other was flaky.
    const t = forPath(a.path).map((r) => r.at);
    expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(240);
    expect(t[2]! - t[1]!).toBeGreaterThanOrEqual(480);
  });

  it('retries while the receiver is down and delivers once it is up again', async () => {
    const down = new Receiver();
    await down.start();
    const port = down.port;
    await down.stop(); // nothing listens on the port now
    const accountId = `acc_down_${Date.now().toString(36)}`;
    await h.webhooks.endpoints.set({
      accountId,
      url: `http://127.0.0.1:${port}/hook`,
      includeIntermediate: false,
      enabled: true,
    });
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId });
    const failed = await waitFor(
      async () => {
        const [d] = await h.webhooks.deliveries.deliveriesOfMessage(m);
        return d && d.attempts >= 2 ? d : undefined;
      },
      { timeoutMs: 30_000, what: 'two failed attempts' },
    );
    expect(failed.state).toBe('pending');
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    await down.start(port);
    try {
      await waitFor(() => down.received.length === 1, {
        timeoutMs: 30_000,
        what: 'delivery after the receiver came up',
      });
      await waitFor(
        async () => (await h.webhooks.deliveries.deliveriesOfMessage(m))[0]?.state === 'delivered',
        {
          what: 'the delivered state',
        },
      );
    } finally {
      await down.stop();
    }
  });

  it('keeps the order per message: a later status waits until the earlier one is delivered', async () => {
    const a = await account({ includeIntermediate: true });
    const m = uuidv7();
    // the first status fails twice; the final one, published right after, must not overtake it
    rx.behaviour = (r, nth) => (r.path === a.path && nth <= 2 ? 500 : 200);
    await h.delivery({
      messageId: m,
      accountId: a.accountId,
      status: DeliveryStatus.DELIVERY_STATUS_ENROUTE,
      final: false,
      revision: 1,
    });
    await h.delivery({ messageId: m, accountId: a.accountId, revision: 2 });
    await waitFor(() => rx.bodies(a.path).some((b) => b.data.revision === 2), {
      timeoutMs: 30_000,
      what: 'the final status',
    });
    const revisions = rx.bodies(a.path).map((b) => b.data.revision);
    expect(revisions).toEqual([1, 1, 1, 2]);
  });

  it("a receiver of account A that never answers does not delay account B's webhooks", async () => {
    const a = await account();
    const b = await account();
    rx.behaviour = (r) => (r.path === a.path ? 'hang' : 200);
    // A's attempts must all still be open when B's webhook arrives: a timeout far beyond what B's path
    // through Kafka and PostgreSQL takes on a busy machine (at 5 s, a slow consume ended one of A's first).
    await h.restart({ timeoutMs: 60_000 });
    // more of A's deliveries than the replica's per-account limit (4)
    for (let i = 0; i < 12; i++) await h.delivery({ messageId: uuidv7(), accountId: a.accountId });
    await waitFor(() => forPath(a.path).length >= 4, {
      timeoutMs: 30_000,
      what: "A's receiver holding 4 requests",
    });
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: b.accountId });
    await waitFor(() => forPath(b.path).length === 1, { timeoutMs: 30_000, what: "B's webhook" });
    // B was delivered while every request A's receiver holds is still unanswered (timeout 5 s): no
    // attempt of A has ended yet, and A never had more than its 4 slots.
    const aIds = (
      await h.pool.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE account_id = $1', [
        a.accountId,
      ])
    ).rows.map((r) => r.id);
    expect(await h.webhooks.deliveries.attempts(aIds)).toHaveLength(0);
    expect(forPath(a.path)).toHaveLength(4);
    // A's receiver answers again and lets go of what it held: the restart does not wait a minute for them.
    rx.behaviour = () => 200;
    rx.release();
    await h.restart();
  });

  it('a restart in the middle of the retries keeps the schedule', async () => {
    const a = await account();
    rx.behaviour = (r, nth) => (r.path === a.path && nth === 1 ? 500 : 200);
    await h.restart({ backoff: { baseMs: 4_000, maxMs: 4_000 } });
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: a.accountId });
    const scheduled = await waitFor(
      async () => {
        const [d] = await h.webhooks.deliveries.deliveriesOfMessage(m);
        return d && d.attempts === 1 ? d : undefined;
      },
      { timeoutMs: 30_000, what: 'the first (failed) attempt' },
    );
    await h.restart({ backoff: { baseMs: 4_000, maxMs: 4_000 } });
    await waitFor(() => forPath(a.path).length === 2, {
      timeoutMs: 30_000,
      what: 'the retry after the restart',
    });
    // the retry came at the stored time (not earlier, not lost), and nothing was sent twice
    expect(forPath(a.path)[1]!.at).toBeGreaterThanOrEqual(scheduled.next_attempt_at.getTime() - 50);
    // the receiver saw the request before webhooks recorded its answer: wait for the recorded state
    const d = await waitFor(
      async () => {
        const [row] = await h.webhooks.deliveries.deliveriesOfMessage(m);
        return row?.state === 'pending' ? undefined : row;
      },
      { timeoutMs: 30_000, what: 'the retry recorded' },
    );
    const attempts = await h.webhooks.deliveries.attempts([d.id]);
    expect({ state: d.state, attempts: attempts.map((x) => x.http_status) }).toEqual({
      state: 'delivered',
      attempts: [500, 200],
    });
    await h.restart();
  });

  it('gives up after the retry period; a replay by attempt id delivers it', async () => {
    const a = await account();
    rx.behaviour = (r) => (r.path === a.path ? 503 : 200);
    await h.restart({ retryForMs: 1_500 });
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: a.accountId });
    const failed = await waitFor(
      async () => {
        const [d] = await h.webhooks.deliveries.deliveriesOfMessage(m);
        return d?.state === 'failed' ? d : undefined;
      },
      { timeoutMs: 30_000, what: 'the delivery given up' },
    );
    const attempts = await h.webhooks.deliveries.attempts([failed.id]);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    rx.behaviour = () => 200;
    // over the service's gRPC API, as hubctl does
    const listed = await h.api.listAttempts({ messageId: m });
    expect(listed.deliveries).toHaveLength(1);
    expect(listed.deliveries[0]).toMatchObject({
      id: failed.id,
      state: WebhookDeliveryState.WEBHOOK_DELIVERY_STATE_FAILED,
    });
    expect(listed.deliveries[0]!.attempts.map((x) => x.httpStatus)).toEqual(attempts.map(() => 503));
    const replayed = await h.api.replay({ id: attempts.at(-1)!.id });
    expect(replayed.delivery?.id).toBe(failed.id);
    await waitFor(
      async () => (await h.webhooks.deliveries.deliveriesOfMessage(m))[0]?.state === 'delivered',
      {
        timeoutMs: 30_000,
        what: 'the replay delivered',
      },
    );
    const after = await h.webhooks.deliveries.attempts([failed.id]);
    expect(after.at(-1)).toMatchObject({ http_status: 200, replay: true });
    await h.restart();
  });
});

describe('the WebhookService API', () => {
  it('sets an endpoint (secret shown once), rotates its secret, and refuses a call without a valid token', async () => {
    const accountId = `acc_api_${Date.now().toString(36)}`;
    const created = await h.api.setEndpoint({
      accountId,
      url: rx.url(`/${accountId}`),
      includeIntermediate: false,
      disabled: false,
    });
    expect(created.signingSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const updated = await h.api.setEndpoint({
      accountId,
      url: rx.url(`/${accountId}`),
      includeIntermediate: true,
      disabled: false,
    });
    expect(updated.signingSecret).toBe('');
    expect(updated.endpoint).toMatchObject({ includeIntermediate: true, enabled: true });
    const rotated = await h.api.rotateSecret({ accountId, overlapSeconds: 600 });
    expect(rotated.signingSecret).not.toBe(created.signingSecret);
    expect(rotated.endpoint?.previousSecretUntil).toBeInstanceOf(Date);
    // the secrets are never read back
    const got = await h.api.getEndpoint({ accountId });
    expect(JSON.stringify(got)).not.toContain('whsec_');
    await expect(
      h.api.setEndpoint({
        accountId,
        url: 'ftp://example.com/',
        includeIntermediate: false,
        disabled: false,
      }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    await expect(h.api.getEndpoint({ accountId: 'acc_none' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    const anonymous = h.clientWith('smshub_not-a-valid-token');
    try {
      await expect(
        new Promise((resolve, reject) =>
          anonymous.getEndpoint({ accountId }, (err, res) => (err ? reject(err) : resolve(res))),
        ),
      ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    } finally {
      anonymous.close();
    }
  });
});

describe('deleting an endpoint', () => {
  it('fails its pending deliveries at their next attempt instead of retrying them for 24 h', async () => {
    const a = await account();
    rx.behaviour = (r) => (r.path === a.path ? 500 : 200);
    const m = uuidv7();
    await h.delivery({ messageId: m, accountId: a.accountId });
    await waitFor(async () => ((await h.webhooks.deliveries.deliveriesOfMessage(m))[0]?.attempts ?? 0) >= 1, {
      timeoutMs: 30_000,
      what: 'a failed attempt',
    });
    await h.api.deleteEndpoint({ accountId: a.accountId });
    const d = await waitFor(
      async () => {
        const [x] = await h.webhooks.deliveries.deliveriesOfMessage(m);
        return x?.state === 'failed' ? x : undefined;
      },
      { timeoutMs: 30_000, what: 'the delivery failed' },
    );
    expect(d.last_error).toBe('the account has no webhook endpoint');
  });
});
