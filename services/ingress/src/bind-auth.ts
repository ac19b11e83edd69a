import net from 'node:net';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import type { Logger } from '@smshub/logging';
import { commonHashParams, dummyHash, FairQueue, QueueFullError } from '@smshub/secrets';
import { CommandStatus as S, type BindType, type Pdu } from '@smshub/smpp';
import { ipAllowed, type Account, type AccountStore } from './accounts.js';
import { BindGuard, MemoryGuardStore, type AttemptVerdict, type BindGuardOptions } from './bind-guard.js';
import * as m from './metrics.js';

/**
 * Bind authentication: who may bind, decided in this order (each step before the costly one after it):
 *
 * 1. At most `maxPerIp` binds of one source address in progress (held or verifying); more are refused at
 *    once with ESME_RBINDFAIL, without counting or verifying (a flood costs a counter, no CPU, no query).
 * 2. The failed-bind guard counts the attempt and may refuse it (locked) or hold it (back-off).
 * 3. At most `maxPerSystemId` binds of one system_id in progress from addresses that are not known (see
 *    bind-guard.ts): a guesser spread over many addresses cannot keep many verifications of one account
 *    going; the customer's own known addresses are not counted nor refused by it.
 * 4. At most `verifyPerSecondPerIp` checks per second for one source address not known for the system_id.
 * 5. The password is verified in a FairQueue of `verifyConcurrency` slots, round-robin across source
 *    addresses, so a flood from one address waits behind itself and cannot starve other sources.
 *
 * Unknown system_ids and wrong passwords get the same answer, ESME_RINVPASWD, after the same work: a
 * verification against a dummy hash made with the parameters most stored hashes use (same argon2 cost).
 * An address outside the account's allow list gets ESME_RBINDFAIL whether or not the password was right
 * (no password oracle from outside the list), after the same verification.
 */
export interface BindAuthOptions {
  /**
   * Password verifications at once. argon2 runs on libuv's threadpool (UV_THREADPOOL_SIZE, default 4, also
   * used by DNS lookups and file I/O) and one verification keeps a core busy for its whole duration: the
   * default leaves one core to the event loop (measured on 2 cores: 2 at once took both, and a legitimate
   * bind under a flood waited 550 ms median instead of 250).
   */
  verifyConcurrency: number;
  maxPerIp: number;
  maxPerSystemId: number;
  /** Verifications waiting at most, all sources together. */
  maxQueued: number;
  /**
   * A bind refused without verification (locked, too many in progress) is answered after this long: a
   * client looping on refusals then costs a held socket, not a connection and a PDU per millisecond.
   */
  refusalDelayMs: number;
  /**
   * Password checks per second of one source address that is not known for the system_id it binds as
   * (beyond: refused without a check). Fairness alone shares the pool; this also caps what one source's
   * flood costs in CPU (each check keeps a core busy ~30 ms: 10/s is a third of a core).
   */
  verifyPerSecondPerIp: number;
}

export const DEFAULT_BIND_AUTH: BindAuthOptions = {
  verifyConcurrency: Math.max(1, Math.min(3, availableParallelism() - 1)),
  maxPerIp: 10,
  maxPerSystemId: 10,
  maxQueued: 1000,
  refusalDelayMs: 1000,
  verifyPerSecondPerIp: 10,
};

export interface AuthResult {
  status: number;
  account?: Account;
  /** For the log only; never sent to the ESME. */
  reason: string;
  /** Hold the answer this long (a refusal without verification). */
  holdMs?: number;
}

export interface BindAuthDeps {
  accounts: AccountStore;
  guard: BindGuard;
  options: BindAuthOptions;
  logger: Logger;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Guard transactions at once (of the 10 connections of ingress's pool). */
const GUARD_CONCURRENCY = 3;

export class BindAuthenticator {
  private readonly queue: FairQueue;
  /**
   * The guard's transactions, at most GUARD_CONCURRENCY at once (fair across addresses): under a flood they
   * would otherwise take every connection of the pool that receipts and query_sm need too.
   */
  private readonly guardQueue: FairQueue;
  private readonly perIp = new Map<string, number>();
  private readonly perSystemId = new Map<string, number>();
  /** Used while the shared guard store (PostgreSQL) does not answer. */
  private readonly fallback: BindGuard;
  private dummy: { key: string; hash: Promise<string> } | undefined;
  private readonly budget = new PerSecond();
  private lastStoreWarning = 0;

  constructor(private readonly deps: BindAuthDeps) {
    const o = deps.options;
    this.queue = new FairQueue({
      concurrency: o.verifyConcurrency,
      maxPerSource: o.maxPerIp,
      maxQueued: o.maxQueued,
    });
    this.guardQueue = new FairQueue({
      concurrency: GUARD_CONCURRENCY,
      maxPerSource: o.maxPerIp,
      maxQueued: o.maxQueued,
    });
    this.fallback = new BindGuard(new MemoryGuardStore(deps.guard.opts), deps.guard.opts);
  }

  get guardOptions(): BindGuardOptions {
    return this.deps.guard.opts;
  }

  /** Call after the accounts were (re)loaded: the dummy hash follows the parameters of the stored ones. */
  accountsChanged(): void {
    const params = commonHashParams([...this.deps.accounts.all()].map((a) => a.passwordHash));
    const key = `${params.memoryCost},${params.timeCost},${params.parallelism}`;
    if (this.dummy?.key === key) return;
    const hash = dummyHash(params);
    hash.catch(() => undefined);
    this.dummy = { key, hash };
  }

  async authenticate(ip: string, pdu: Pdu & { bindType: BindType }): Promise<AuthResult> {
    const r = await this.decide(ip, pdu);
    if (r.holdMs) await sleep(r.holdMs);
    return r;
  }

  private async decide(ip: string, pdu: Pdu & { bindType: BindType }): Promise<AuthResult> {
    const systemId = pdu.system_id ?? '';
    const source = sourceOf(ip);
    if ((this.perIp.get(source) ?? 0) >= this.deps.options.maxPerIp)
      return this.refuse('busy_ip', 'too many binds in progress from this address');
    inc(this.perIp, source);
    try {
      return await this.guarded(ip, source, systemId, pdu);
    } finally {
      dec(this.perIp, source);
    }
  }

  private async guarded(
    ip: string,
    source: string,
    systemId: string,
    pdu: Pdu & { bindType: BindType },
  ): Promise<AuthResult> {
    const account = this.deps.accounts.get(systemId);
    const allowListed = account?.allowList !== undefined && ipAllowed(account, ip);
    let verdict: AttemptVerdict;
    try {
      verdict = await this.attempt(source, systemId, allowListed);
    } catch (err) {
      if (err instanceof QueueFullError) return this.refuse('queue_full', 'bind guard queue full');
      throw err;
    }
    if (!verdict.admitted)
      return this.refuse(
        verdict.lockedBy === 'pair' ? 'locked_pair' : 'locked_ip',
        `locked for ${Math.ceil(verdict.retryAfterMs / 1000)} s after failed binds (${verdict.lockedBy === 'pair' ? 'this system_id from this address' : 'this address'})`,
      );
    const counted = !verdict.known;
    if (counted) {
      if ((this.perSystemId.get(systemId) ?? 0) >= this.deps.options.maxPerSystemId)
        return this.refuse(
          'busy_system_id',
          'too many binds of this system_id in progress from unknown addresses',
        );
      inc(this.perSystemId, systemId);
    }
    try {
      if (verdict.delayMs > 0) await sleep(verdict.delayMs);
      if (counted && !this.budget.take(source, this.deps.options.verifyPerSecondPerIp))
        return this.refuse('rate_ip', 'too many password checks from this address this second');
      const hash = account?.passwordHash ?? (await this.dummyHash());
      let ok: boolean;
      try {
        ok = await this.queue.run(source, () => argon2.verify(hash, pdu.password ?? ''));
      } catch (err) {
        if (err instanceof QueueFullError)
          return this.refuse('queue_full', 'password verification queue full');
        if (account)
          this.deps.logger.error(
            { systemId, err: (err as Error).message },
            'stored password hash cannot be verified',
          );
        ok = false;
      }
      if (!account) return { status: S.ESME_RINVPASWD, reason: 'unknown system_id' };
      if (!ipAllowed(account, ip))
        return { status: S.ESME_RBINDFAIL, account, reason: 'source IP not allowed' };
      if (!ok) return { status: S.ESME_RINVPASWD, account, reason: 'wrong password' };
      // Not waited for: the answer does not depend on it (a few ms less for every successful bind).
      void this.guardQueue
        .run(source, () => this.deps.guard.succeed(source, systemId))
        .catch((err: unknown) => {
          this.warnStore(err, 'bind guard store unavailable; success recorded on this replica only');
          return this.fallback.succeed(source, systemId);
        });
      if (!account.enabled) return { status: S.ESME_RBINDFAIL, account, reason: 'account disabled' };
      if (!account.allowedBindTypes.has(pdu.bindType))
        return { status: S.ESME_RBINDFAIL, account, reason: `bind type ${pdu.bindType} not allowed` };
      return { status: S.ESME_ROK, account, reason: 'ok' };
    } finally {
      if (counted) dec(this.perSystemId, systemId);
    }
  }

  /** `source`: see sourceOf. */
  private async attempt(source: string, systemId: string, allowListed: boolean): Promise<AttemptVerdict> {
    try {
      return await this.guardQueue.run(source, () => this.deps.guard.attempt(source, systemId, allowListed));
    } catch (err) {
      if (err instanceof QueueFullError) throw err;
      // A database outage must not open the door to guessing, nor lock everyone out: this replica's own
      // counters decide meanwhile.
      this.warnStore(err, 'bind guard store unavailable; counting on this replica meanwhile');
      return this.fallback.attempt(source, systemId, allowListed);
    }
  }

  /** At most one warning per 30 s: under a flood every bind would log one. */
  private warnStore(err: unknown, text: string): void {
    const now = Date.now();
    if (now - this.lastStoreWarning < 30_000) return;
    this.lastStoreWarning = now;
    this.deps.logger.warn({ err: (err as Error).message }, text);
  }

  private dummyHash(): Promise<string> {
    if (!this.dummy) this.accountsChanged();
    return this.dummy!.hash;
  }

  /** A refusal without verification, answered after refusalDelayMs (not counted as in progress meanwhile). */
  private refuse(reason: string, text: string): AuthResult {
    m.bindRefusals.inc({ reason });
    return { status: S.ESME_RBINDFAIL, reason: text, holdMs: this.deps.options.refusalDelayMs };
  }
}

/**
 * The source a bind is counted, bounded and queued under: the IPv4 address, or the /64 of an IPv6 one (one
 * customer line or host gets a whole /64 and can rotate through its addresses at will). The allow list is
 * still checked against the full address.
 */
export function sourceOf(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups; only the first four groups matter here.
  const groups =
    tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** At most `limit` per key per second (fixed one-second windows); remembers only the current second. */
class PerSecond {
  private second = 0;
  private counts = new Map<string, number>();

  take(key: string, limit: number, now: number = Date.now()): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.counts = new Map();
    }
    const n = this.counts.get(key) ?? 0;
    if (n >= limit) return false;
    this.counts.set(key, n + 1);
    return true;
  }
}

function inc(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function dec(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
