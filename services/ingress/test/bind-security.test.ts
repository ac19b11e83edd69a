// Attacks on SMPP binds, over real TCP from 127.0.0.x source addresses (Linux routes all of 127/8 to lo, so
// a client socket bound to 127.0.0.2 reaches ingress on 127.0.0.1 and ingress sees 127.0.0.2).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_HASH_OPTIONS } from '@smshub/secrets';
import { CommandStatus as S, connectSmpp, SmppError } from '@smshub/smpp';
import { metricsRegistry } from '@smshub/telemetry';
import { waitFor } from '@smshub/testing';
import { Harness } from './harness.js';

interface Outcome {
  status: number;
  ms: number;
}

/** One bind (transmitter) from `localAddress`; the session is closed again at once. */
async function bindFrom(
  port: number,
  localAddress: string,
  systemId: string,
  password: string,
): Promise<Outcome> {
  const t0 = performance.now();
  try {
    const s = await connectSmpp({
      host: '127.0.0.1',
      port,
      localAddress,
      systemId,
      password,
      bindType: 'transmitter',
      enquireLinkMs: 0,
      responseTimeoutMs: 30_000,
    });
    const ms = performance.now() - t0;
    s.destroy();
    return { status: 0, ms };
  } catch (e) {
    if (e instanceof SmppError && e.commandStatus)
      return { status: e.commandStatus, ms: performance.now() - t0 };
    throw e;
  }
}

const count = (outs: Outcome[], status: number): number => outs.filter((o) => o.status === status).length;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

describe('ingress binds under attack: guard, lockout, allow lists, metrics', () => {
  const h = new Harness();
  let port: number;

  beforeAll(async () => {
    await h.setup();
    port = (
      await h.startReplica({
        bindGuard: {
          slowAfter: 3,
          blockAfter: 6,
          baseDelayMs: 50,
          maxDelayMs: 200,
          blockMs: 60_000,
          ipBlockAfter: 40,
          sidSlowAfter: 1000,
        },
      })
    ).port;
  });
  afterAll(() => h.teardown());

  it('60 parallel wrong binds from one address get at most blockAfter password verdicts; the right one alongside is refused', async () => {
    await h.addAccount({ systemId: 'racer', password: 'right' });
    const wrong = Array.from({ length: 60 }, () => bindFrom(port, '127.0.0.4', 'racer', 'wrong'));
    const right = bindFrom(port, '127.0.0.4', 'racer', 'right');
    const outs = await Promise.all(wrong);
    // Each attempt is counted when it arrives, before its password is checked: only the first 6 (the
    // configured blockAfter) are verified; the others are refused unverified, ESME_RBINDFAIL.
    expect(count(outs, S.ESME_RINVPASWD)).toBeGreaterThan(0);
    expect(count(outs, S.ESME_RINVPASWD)).toBeLessThanOrEqual(6);
    expect(count(outs, S.ESME_RBINDFAIL)).toBe(60 - count(outs, S.ESME_RINVPASWD));
    expect((await right).status).toBe(S.ESME_RBINDFAIL);
    // Still locked afterwards for this (system_id, address), with the right password ...
    expect((await bindFrom(port, '127.0.0.4', 'racer', 'right')).status).toBe(S.ESME_RBINDFAIL);
    // ... and only for it: the customer from its own address binds.
    expect((await bindFrom(port, '127.0.0.5', 'racer', 'right')).status).toBe(0);
  });

  it('a lock made through one replica holds on the others (the counters are in PostgreSQL)', async () => {
    const other = await h.startReplica();
    expect((await bindFrom(other.port, '127.0.0.4', 'racer', 'right')).status).toBe(S.ESME_RBINDFAIL);
    expect((await bindFrom(other.port, '127.0.0.5', 'racer', 'right')).status).toBe(0);
  });

  it('failures from elsewhere never lock a customer out of its allow-listed address', async () => {
    await h.addAccount({ systemId: 'victim', password: 'right', allowedCidrs: ['127.0.0.2/32'] });
    // 50 wrong binds from an attacker's address, sequentially and in parallel.
    for (let i = 0; i < 10; i++) await bindFrom(port, '127.0.0.6', 'victim', `guess${i}`);
    await Promise.all(Array.from({ length: 40 }, (_, i) => bindFrom(port, '127.0.0.6', 'victim', `g${i}`)));
    const own = await bindFrom(port, '127.0.0.2', 'victim', 'right');
    expect(own.status).toBe(0);
    expect(own.ms).toBeLessThan(1000); // not held by the back-off of the attacker's failures
    // The attacker is locked, even once it finds the password.
    expect((await bindFrom(port, '127.0.0.6', 'victim', 'right')).status).toBe(S.ESME_RBINDFAIL);
  });

  it('lets a customer open as many binds at once from its allow-listed address as the lock threshold, unheld', async () => {
    const r = await h.startReplica({ bindGuard: { slowAfter: 3, blockAfter: 6, baseDelayMs: 1000 } });
    await h.addAccount({
      systemId: 'fleet',
      password: 'right',
      maxBinds: 6,
      allowedCidrs: ['127.0.0.11/32'],
    });
    // Six parallel binds are six attempts counted before the first success: the 6th reaches the pair's
    // lock threshold but is still checked, and none is held (a known address; else the 3rd would wait 1 s).
    const outs = await Promise.all(
      Array.from({ length: 6 }, () => bindFrom(r.port, '127.0.0.11', 'fleet', 'right')),
    );
    expect(outs.map((o) => o.status)).toEqual(Array(6).fill(0));
    expect(Math.max(...outs.map((o) => o.ms))).toBeLessThan(1000);
  });

  it('refuses a bind from outside the account allow list with ESME_RBINDFAIL, right password or not', async () => {
    await h.addAccount({ systemId: 'listed', password: 'right', allowedCidrs: ['127.0.0.2/32'] });
    expect((await bindFrom(port, '127.0.0.3', 'listed', 'right')).status).toBe(S.ESME_RBINDFAIL);
    // No password oracle from outside: a wrong password gets the same answer.
    expect((await bindFrom(port, '127.0.0.3', 'listed', 'wrong')).status).toBe(S.ESME_RBINDFAIL);
    expect((await bindFrom(port, '127.0.0.2', 'listed', 'right')).status).toBe(0);
    expect((await bindFrom(port, '127.0.0.2', 'listed', 'wrong')).status).toBe(S.ESME_RINVPASWD);
  });

  it('guessing spread over many addresses is slowed for new addresses, not for known ones', async () => {
    const r = await h.startReplica({
      bindGuard: { baseDelayMs: 200, sidSlowAfter: 5, sidMaxDelayMs: 800, ipBlockAfter: 1000 },
      bindAuth: { maxPerSystemId: 4 },
    });
    await h.addAccount({ systemId: 'spread', password: 'right' });
    // The customer bound from 127.0.0.7 before the attack: a known address.
    expect((await bindFrom(r.port, '127.0.0.7', 'spread', 'right')).status).toBe(0);
    // 40 guesses in parallel, each from its own address: at most 4 are in progress at once (the rest are
    // refused unverified), and from the 5th counted on each is held back.
    const outs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => bindFrom(r.port, `127.0.1.${i + 1}`, 'spread', 'wrong')),
    );
    expect(count(outs, S.ESME_RINVPASWD)).toBeLessThan(20);
    expect(count(outs, S.ESME_RBINDFAIL) + count(outs, S.ESME_RINVPASWD)).toBe(40);
    // Right password: from the known address at once; from a new one, held but accepted.
    const known = await bindFrom(r.port, '127.0.0.7', 'spread', 'right');
    const fresh = await bindFrom(r.port, '127.0.0.8', 'spread', 'right');
    expect(known.status).toBe(0);
    expect(fresh.status).toBe(0);
    expect(known.ms).toBeLessThan(150);
    expect(fresh.ms).toBeGreaterThanOrEqual(700);
  });

  it('grows the lock: a second lock of the same pair lasts twice as long', async () => {
    const r = await h.startReplica({
      bindGuard: { slowAfter: 100, blockAfter: 3, blockMs: 1000, maxBlockMs: 60_000, ipBlockAfter: 1000 },
    });
    await h.addAccount({ systemId: 'twice', password: 'right' });
    const lockOnce = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) await bindFrom(r.port, '127.0.0.9', 'twice', 'wrong');
      const { rows } = await h.pool.query<{ ms: string }>(
        `SELECT (blocked_until - (extract(epoch FROM clock_timestamp()) * 1000)::bigint)::text AS ms
           FROM ingress_bind_guard WHERE key = 'pair:twice|127.0.0.9'`,
      );
      return Number(rows[0]!.ms);
    };
    const first = await lockOnce();
    expect(first).toBeGreaterThan(500);
    expect(first).toBeLessThanOrEqual(1000);
    expect((await bindFrom(r.port, '127.0.0.9', 'twice', 'right')).status).toBe(S.ESME_RBINDFAIL);
    // Once the lock has ended (not with the right password from there: a success would clear the pair),
    // wrong passwords are verified again and the next lock is twice as long.
    await new Promise((res) => setTimeout(res, first + 50));
    const second = await lockOnce();
    expect(second).toBeGreaterThan(1500);
    expect(second).toBeLessThanOrEqual(2000);
  });

  it('labels metrics with the account id, never the system_id', async () => {
    const id = await h.addAccount({ systemId: 'metered', password: 'right' });
    const s = await h.bind(port, { systemId: 'metered', password: 'right', bindType: 'transmitter' });
    await s
      .submit({ source_addr: 'Shop', destination_addr: '447700900123', short_message: Buffer.from('x') })
      .catch(() => undefined);
    const text = await metricsRegistry.metrics();
    expect(text).toContain(`smshub_ingress_binds{account="${id}"} 1`);
    expect(text).toMatch(new RegExp(`smshub_ingress_submits_total\\{account="${id}"`));
    for (const sid of ['metered', 'racer', 'victim', 'listed', 'spread'])
      expect(text).not.toContain(`"${sid}"`);
  });
});

// Generous timeouts: on the shared 2-core machine one bind with production parameters took 30-150 ms.
describe(
  'ingress binds: timing and floods (argon2id with the production parameters)',
  { timeout: 240_000 },
  () => {
    const h = new Harness();
    let port: number;
    // The guard's locks and holds out of the way: these tests are about the verification work (with the
    // defaults there, a one-address flood is also locked out after 50 failures). What protects the
    // legitimate bind below is the fair pool and the per-address check rate (10/s, the default).
    const permissive = {
      slowAfter: 1e6,
      blockAfter: 1e6,
      ipBlockAfter: 1e6,
      sidSlowAfter: 1e6,
    };

    beforeAll(async () => {
      await h.setup();
      port = (await h.startReplica({ bindGuard: permissive })).port;
      // Every stored hash with the production cost: the dummy hash for unknown ids gets the same.
      const { memoryCost, timeCost } = PASSWORD_HASH_OPTIONS;
      await h.addAccount({ systemId: 'known', password: 'right', hashOptions: { memoryCost, timeCost } });
      await h.addAccount({ systemId: 'legit', password: 'right', hashOptions: { memoryCost, timeCost } });
    });
    afterAll(() => h.teardown());

    it('answers unknown and known system_ids alike: same status, medians within 10 % over 50 binds each', async () => {
      // A replica of its own without the per-address check rate (10/s): this test compares the verification
      // work, and back-to-back binds from one address cross that rate on a quiet machine (refused, not timed).
      const port = (
        await h.startReplica({ bindGuard: permissive, bindAuth: { verifyPerSecondPerIp: 1_000_000 } })
      ).port;
      for (let i = 0; i < 10; i++) {
        await bindFrom(port, '127.0.0.2', 'known', 'wrong');
        await bindFrom(port, '127.0.0.2', `nobody${i}`, 'wrong');
      }
      // The machine is shared: a round whose medians differ by more than 10 % is measured again, up to three
      // rounds. Every round must be within 50 % (before the fix unknown ids took 5 times as long as known ones).
      const gaps: number[] = [];
      for (let round = 0; round < 3; round++) {
        const known: number[] = [];
        const unknown: number[] = [];
        for (let i = 0; i < 50; i++) {
          // Interleaved, so that load from elsewhere on the machine hits both alike.
          const a = await bindFrom(port, '127.0.0.2', 'known', `wrong${i}`);
          const b = await bindFrom(port, '127.0.0.2', `ghost${round}x${i}`, `wrong${i}`);
          expect(a.status).toBe(S.ESME_RINVPASWD);
          expect(b.status).toBe(S.ESME_RINVPASWD);
          known.push(a.ms);
          unknown.push(b.ms);
        }
        const mk = median(known);
        const mu = median(unknown);
        const gap = Math.abs(mk - mu) / Math.max(mk, mu);
        console.log(`bind timing, median of 50: known ${mk.toFixed(1)} ms, unknown ${mu.toFixed(1)} ms`);
        expect(gap).toBeLessThan(0.5);
        gaps.push(gap);
        if (gap < 0.1) break;
      }
      expect(Math.min(...gaps)).toBeLessThan(0.1);
    });

    it('keeps a legitimate bind under 200 ms p95 while 20 connections from another address flood unknown ids', async () => {
      const legit = async (): Promise<number> => {
        const o = await bindFrom(port, '127.0.0.2', 'legit', 'right');
        expect(o.status).toBe(0);
        return o.ms;
      };
      const quiet: number[] = [];
      for (let i = 0; i < 10; i++) quiet.push(await legit());
      // The attacker runs in its own process, as it would on its own machine.
      const flood = fork(
        fileURLToPath(new URL('./bind-flood.ts', import.meta.url)),
        [String(port), '20', '127.0.0.3'],
        {
          execArgv: ['--conditions=@smshub/source', '--import', 'tsx'],
        },
      );
      let attempts = 0;
      const done = new Promise<void>((resolve) => flood.once('exit', () => resolve()));
      flood.on('message', (m: { attempts: number }) => void (attempts = m.attempts));
      const loaded: number[] = [];
      try {
        // Measured once the flood is in full swing (its verifications fill the pool).
        await waitFor(() => attempts >= 40, { what: '40 flood binds', timeoutMs: 60_000 });
        for (let i = 0; i < 40; i++) loaded.push(await legit());
      } finally {
        if (flood.connected) flood.send({ type: 'stop' });
        await done;
      }
      for (let i = 0; i < 10; i++) quiet.push(await legit());
      console.log(
        `legitimate bind: quiet median ${median(quiet).toFixed(1)} ms, p95 ${percentile(quiet, 95).toFixed(1)} ms; under flood (${attempts} flood binds) median ${median(loaded).toFixed(1)} ms, p95 ${percentile(loaded, 95).toFixed(1)} ms`,
      );
      // 200 ms on the 2-core machine when it is otherwise idle (quiet p95 40-60 ms). When other work already
      // makes quiet binds slower (20 of them, before and after the flood), the bound grows with them: 3 times
      // the quiet p95. An unfair pool fails either way: a bind waiting behind the flood's queued checks (up
      // to 10 of ~30 ms each) took 2,369 ms before, against 27 ms quiet.
      expect(percentile(loaded, 95)).toBeLessThan(Math.max(200, 3 * percentile(quiet, 95)));
    });
  },
);
