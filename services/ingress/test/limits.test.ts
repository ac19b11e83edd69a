import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountBalance, ChangeAction, ConfigChange, ResourceKind } from '@smshub/contracts';
import { TypedProducer } from '@smshub/kafka';
import { CommandStatus as S, encodePdu, SmppError } from '@smshub/smpp';
import { uniqueName, waitFor } from '@smshub/testing';
import { Harness } from './harness.js';
import { RawPeer } from '@smshub/smpp/testing';

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof SmppError) return e.commandStatus;
    throw e;
  }
}

const msg = {
  source_addr: 'ACME',
  source_addr_ton: 5,
  destination_addr: '447700900123',
  short_message: Buffer.from('hi'),
};

/** Sends `n` submit_sm in one write and returns the statuses, in sequence order. */
async function burst(port: number, systemId: string, password: string, n: number): Promise<number[]> {
  const peer = await RawPeer.connect(port);
  peer.send({
    command: 'bind_transmitter',
    sequence_number: 1,
    system_id: systemId,
    password,
    interface_version: 0x34,
  });
  expect((await peer.nextPdu()).command_status).toBe(0);
  // One write, so the server reads them together.
  peer.sendRaw(
    Buffer.concat(
      Array.from({ length: n }, (_, i) =>
        encodePdu({ command: 'submit_sm', sequence_number: 10 + i, ...msg }),
      ),
    ),
  );
  const out = new Map<number, number>();
  while (out.size < n) {
    const p = await peer.nextPdu(10_000);
    out.set(p.sequence_number, p.command_status);
  }
  peer.destroy();
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([, st]) => st);
}

describe('ingress: throttling, window, durable accept, account changes', () => {
  const h = new Harness();
  let port: number;

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    port = (await h.startReplica()).port;
    await h.addAccount({ systemId: 'slow', password: 'pw', tpsLimit: 5, maxBinds: 3 });
    await h.addAccount({ systemId: 'narrow', password: 'pw', maxWindow: 2 });
    await h.addAccount({ systemId: 'changing', password: 'old', maxBinds: 10 });
  });
  afterAll(() => h.teardown());

  it('throttles an account over its TPS across all its binds with RTHROTTLED', async () => {
    const a = await h.bind(port, { systemId: 'slow', password: 'pw', bindType: 'transmitter', window: 20 });
    const b = await h.bind(port, { systemId: 'slow', password: 'pw', bindType: 'transmitter', window: 20 });
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => status((i % 2 ? a : b).submit(msg))));
    const accepted = all.filter((s) => s === 0).length;
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeLessThanOrEqual(7);
    expect(all.filter((s) => s === S.ESME_RTHROTTLED).length).toBe(20 - accepted);
    // Tokens come back with time.
    await waitFor(async () => (await status(a.submit(msg))) === 0, { what: 'a token', timeoutMs: 5000 });
  });

  it('answers submits beyond the account window at once with RTHROTTLED instead of hanging', async () => {
    const statuses = await burst(port, 'narrow', 'pw', 10);
    expect(statuses.slice(0, 2)).toEqual([0, 0]);
    expect(statuses.slice(2)).toEqual(Array(8).fill(S.ESME_RTHROTTLED));
  });

  it('answers RMSGQFUL beyond the window when so configured, and when the producer queue is full', async () => {
    const msgqful = await h.startReplica({ overWindowStatus: S.ESME_RMSGQFUL });
    expect((await burst(msgqful.port, 'narrow', 'pw', 4)).slice(2)).toEqual([
      S.ESME_RMSGQFUL,
      S.ESME_RMSGQFUL,
    ]);
    const full = await h.startReplica({ maxPendingProduces: 0 });
    const s = await h.bind(full.port, { systemId: 'slow', password: 'pw', bindType: 'transmitter' });
    expect(await status(s.submit(msg))).toBe(S.ESME_RMSGQFUL);
  });

  it('never accepts what Kafka did not acknowledge: ESME_RSYSERR', async () => {
    const broken = new TypedProducer(h.kafka, h.logger, { ackTimeoutMs: 1000 });
    await broken.connect();
    await broken.close();
    const r = await h.startReplica({}, { producer: broken });
    const s = await h.bind(r.port, { systemId: 'changing', password: 'old', bindType: 'transmitter' });
    const before = h.submitted.size;
    expect(await status(s.submit(msg))).toBe(S.ESME_RSYSERR);
    // A good submit on the main replica is seen on the topic; the refused one never was.
    const ok = await (
      await h.bind(port, { systemId: 'changing', password: 'old', bindType: 'transmitter' })
    ).submit(msg);
    await h.waitSubmitted(ok.message_id as string);
    expect(h.submitted.size).toBe(before + 1);
  });

  it('applies account changes from config.changes.v1: new password, disabled account unbound', async () => {
    const live = await h.bind(port, { systemId: 'changing', password: 'old', bindType: 'transceiver' });
    const argon2 = (await import('argon2')).default;
    const hash = await argon2.hash('new', {
      type: argon2.argon2id,
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
    });
    await h.pool.query(`UPDATE accounts SET password_hash = $1 WHERE system_id = 'changing'`, [hash]);
    const change = (action: ChangeAction) =>
      ConfigChange.fromPartial({
        changeId: uniqueName('chg'),
        kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
        resourceId: 'acc_changing',
        action,
        revision: 2n,
        actor: 'test',
      });
    await h.producer.produce(h.topics.configChanges, change(ChangeAction.CHANGE_ACTION_UPDATED));
    await waitFor(
      async () =>
        (await status(h.bind(port, { systemId: 'changing', password: 'new', bindType: 'transmitter' }))) ===
        0,
      {
        what: 'the new password to be accepted',
      },
    );
    expect(
      await status(h.bind(port, { systemId: 'changing', password: 'old', bindType: 'transmitter' })),
    ).toBe(S.ESME_RINVPASWD);

    await h.pool.query(`UPDATE accounts SET enabled = false WHERE system_id = 'changing'`);
    await h.producer.produce(h.topics.configChanges, change(ChangeAction.CHANGE_ACTION_UPDATED));
    await waitFor(() => live.state === 'CLOSED', { what: 'the disabled account to be unbound' });
  });

  it('refuses submits of an account that balances.v1 marks out of credit, newest revision wins', async () => {
    const accountId = await h.addAccount({ systemId: 'broke', password: 'pw' });
    const s = await h.bind(port, { systemId: 'broke', password: 'pw', bindType: 'transmitter' });
    expect(await status(s.submit(msg))).toBe(0);
    const balance = (revision: bigint, blocked: boolean) =>
      AccountBalance.fromPartial({ accountId, blocked, revision });
    await h.producer.produce(h.topics.balances, balance(5n, true));
    await waitFor(async () => (await status(s.submit(msg))) === S.ESME_RSUBMITFAIL, {
      what: 'the credit block',
    });
    await h.producer.produce(h.topics.balances, balance(4n, false)); // stale: ignored
    await h.producer.produce(h.topics.balances, balance(6n, true));
    await h.producer.produce(h.topics.balances, balance(7n, false));
    await waitFor(async () => (await status(s.submit(msg))) === 0, { what: 'the top-up to unblock' });
  });
  // Failed binds, lockout, allow lists, timing and floods: bind-security.test.ts.
});
