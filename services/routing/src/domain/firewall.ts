// The firewall: checks every message before routing. Static rules live in an immutable CompiledFirewall
// (part of the RoutingTables snapshot); counters live in a FirewallState that survives table swaps.
//
// Order of evaluation (the first failing check rejects; within a kind, rules by id):
//   1. destination   destination_block, premium_range (longest matching prefix wins) -> firewall_destination
//   2. sender        sender_deny, then sender_allow                                 -> firewall_sender
//   3. content       keyword, content_regex, url_shortener (skipped for binary)      -> firewall_content
//   4. duplicate     same account + destination + text within the window             -> duplicate
//   5. velocity      velocity_prefix, velocity_account, sequential_burst             -> velocity
// Stateful checks (4, 5) are first all checked, then recorded only if the message is admitted, so
// rejected messages do not count against limits. A message whose hubMessageId was already admitted
// (a Kafka redelivery) skips 4 and 5, so redelivery neither trips the duplicate check nor counts twice.
//
// Scope (every rule): accountIds / accountGroups (either matches; none = every account) and destination
// countries (none = every country). Sender lists per destination country use the country scope.
//
// sender_allow: among the allow rules in scope for the message (and for its sender kind, when a rule sets
// one), the sender must match at least one pattern of one of them; otherwise the message is rejected citing
// the lowest-id such rule. No allow rule in scope = every sender allowed (deny rules still apply).

import { createHash } from 'node:crypto';
import { reject } from './customer-error.js';
import { DigitTrie } from './digit-trie.js';
import {
  compilePattern,
  escapeRegExp,
  senderKind,
  type CompiledPattern,
  type SenderKind,
  type SenderPattern,
} from './patterns.js';
import type { Destination, RejectedDecision } from './types.js';
import type { DuplicateNeed, StatefulCheck, VelocityNeed } from './shared-windows.js';
import { ExpiringKeySet, SequentialBurstDetector, SlidingWindowCounter } from './windows.js';

export const DEFAULT_URL_SHORTENERS: readonly string[] = Object.freeze([
  'bit.ly',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'cutt.ly',
  'rebrand.ly',
  'shorturl.at',
  'buff.ly',
  'tiny.cc',
  'rb.gy',
  'bl.ink',
  't.ly',
  'v.gd',
  's.id',
  'shorte.st',
  'adf.ly',
]);

export interface FirewallScope {
  accountIds?: string[];
  accountGroups?: string[];
  /** Destination countries (ISO alpha-2). */
  countries?: string[];
}

interface Base {
  id: string;
  enabled?: boolean;
  scope?: FirewallScope;
  /** Operator-facing reason; a default is derived from the rule otherwise. */
  reason?: string;
}

export type FirewallRule = Base &
  (
    | { kind: 'destination_block'; prefixes: string[] }
    | { kind: 'premium_range'; prefixes: string[] }
    | { kind: 'sender_deny'; senderKind?: SenderKind; patterns: SenderPattern[] }
    | { kind: 'sender_allow'; senderKind?: SenderKind; patterns: SenderPattern[] }
    | { kind: 'keyword'; keywords: string[] }
    | { kind: 'content_regex'; pattern: string; flags?: string }
    | { kind: 'url_shortener'; domains?: string[] }
    | { kind: 'duplicate'; windowSeconds: number }
    | { kind: 'velocity_prefix'; prefixes: string[]; limit: number; windowSeconds: number }
    | { kind: 'velocity_account'; limit: number; windowSeconds: number }
    | { kind: 'sequential_burst'; count: number; windowSeconds: number; varyingDigits: number }
  );

export interface FirewallInput {
  hubMessageId: string;
  accountId: string;
  accountGroup?: string;
  destination: Destination;
  sourceAddr: string;
  sourceTon: number;
  text: string | null;
  atMs: number;
}

interface Scoped {
  id: string;
  reason: string | undefined;
  accounts: ReadonlySet<string> | undefined;
  groups: ReadonlySet<string> | undefined;
  countries: ReadonlySet<string> | undefined;
}

interface DestRule extends Scoped {
  kind: 'destination_block' | 'premium_range';
}
interface SenderRule extends Scoped {
  senderKind: SenderKind | undefined;
  patterns: CompiledPattern[];
}
interface ContentRule extends Scoped {
  kind: 'keyword' | 'content_regex' | 'url_shortener';
  find: (text: string) => string | undefined;
}
interface DuplicateRule extends Scoped {
  windowMs: number;
}
interface VelocityPrefixRule extends Scoped {
  trie: DigitTrie<string>;
  limit: number;
  windowMs: number;
}
interface VelocityAccountRule extends Scoped {
  limit: number;
  windowMs: number;
}
interface BurstRule extends Scoped {
  count: number;
  windowMs: number;
  varyingDigits: number;
}

export class FirewallCompileError extends Error {
  readonly retriable = false;
  constructor(readonly problems: ReadonlyArray<{ ruleId: string; message: string }>) {
    super(
      `firewall rules have ${problems.length} problem(s): ${problems.map((p) => `${p.ruleId}: ${p.message}`).join('; ')}`,
    );
    this.name = 'FirewallCompileError';
  }
}

const set = (a: string[] | undefined, upper = false) =>
  a && a.length > 0 ? new Set(upper ? a.map((x) => x.toUpperCase()) : a) : undefined;

const WORD_CHAR = '[\\p{L}\\p{N}_]';
// An optional scheme, the host (captured), then the rest of the URL is consumed so that a path segment
// like "example.com/t.co" is not read as a host. A host glued to a preceding word, dot, "@" or "/" is not one.
const HOST =
  /(?<![\w.@/-])(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})(?![a-z0-9-])(?:[/?#]\S*)?/gi;

/** First configured shortener domain (or a subdomain of one) found in `text`. */
export function findShortener(text: string, domains: ReadonlySet<string>): string | undefined {
  HOST.lastIndex = 0;
  for (let m = HOST.exec(text); m !== null; m = HOST.exec(text)) {
    const host = (m[1] ?? '').toLowerCase();
    let dot = -1;
    let suffix = host;
    do {
      suffix = host.slice(dot + 1);
      if (domains.has(suffix)) return suffix;
      dot = host.indexOf('.', dot + 1);
    } while (dot >= 0 && host.indexOf('.', dot + 1) >= 0);
  }
  return undefined;
}

function appliesTo(r: Scoped, m: FirewallInput): boolean {
  if (r.countries !== undefined && !r.countries.has(m.destination.country)) return false;
  if (r.accounts === undefined && r.groups === undefined) return true;
  if (r.accounts?.has(m.accountId)) return true;
  return m.accountGroup !== undefined && r.groups !== undefined && r.groups.has(m.accountGroup);
}

function validPrefix(p: string): void {
  if (!/^\d{1,15}$/.test(p)) throw new Error(`prefix ${JSON.stringify(p)} must be E.164 digits without "+"`);
}

function positive(n: number, what: string): void {
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${what} must be > 0`);
}

/** Immutable, indexed firewall rules. */
export class CompiledFirewall {
  private readonly destinations = new DigitTrie<DestRule[]>(64);
  private readonly senderDeny: SenderRule[] = [];
  private readonly senderAllow: SenderRule[] = [];
  private readonly content: ContentRule[] = [];
  private readonly duplicates: DuplicateRule[] = [];
  private readonly velocityPrefix: VelocityPrefixRule[] = [];
  private readonly velocityAccount: VelocityAccountRule[] = [];
  private readonly bursts: BurstRule[] = [];
  readonly size: number;
  readonly ruleIds: ReadonlySet<string>;

  constructor(rules: readonly FirewallRule[]) {
    const problems: Array<{ ruleId: string; message: string }> = [];
    const ids = new Set<string>();
    const sorted = [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let size = 0;
    for (const r of sorted) {
      if (ids.has(r.id)) {
        problems.push({ ruleId: r.id, message: 'duplicate rule id' });
        continue;
      }
      ids.add(r.id);
      if (r.enabled === false) continue;
      try {
        this.add(r);
        size++;
      } catch (e) {
        problems.push({ ruleId: r.id, message: (e as Error).message });
      }
    }
    if (problems.length > 0) throw new FirewallCompileError(problems);
    this.destinations.compact();
    this.size = size;
    this.ruleIds = ids;
  }

  private add(r: FirewallRule): void {
    const scoped: Scoped = {
      id: r.id,
      reason: r.reason,
      accounts: set(r.scope?.accountIds),
      groups: set(r.scope?.accountGroups),
      countries: set(r.scope?.countries, true),
    };
    switch (r.kind) {
      case 'destination_block':
      case 'premium_range': {
        if (r.prefixes.length === 0) throw new Error('no prefixes');
        r.prefixes.forEach(validPrefix);
        const d: DestRule = { ...scoped, kind: r.kind };
        for (const p of r.prefixes) this.destinations.set(p, [d], (x, y) => [...x, ...y]);
        return;
      }
      case 'sender_deny':
      case 'sender_allow': {
        if (r.patterns.length === 0) throw new Error('no patterns');
        const s: SenderRule = {
          ...scoped,
          senderKind: r.senderKind,
          patterns: r.patterns.map(compilePattern),
        };
        (r.kind === 'sender_deny' ? this.senderDeny : this.senderAllow).push(s);
        return;
      }
      case 'keyword': {
        const words = r.keywords.map((k) => k.trim()).filter((k) => k.length > 0);
        if (words.length === 0) throw new Error('no keywords');
        // Longest first so "free money" wins over "free" in the reported match.
        words.sort((a, b) => b.length - a.length);
        const re = new RegExp(
          `(?<!${WORD_CHAR})(?:${words.map(escapeRegExp).join('|')})(?!${WORD_CHAR})`,
          'iu',
        );
        this.content.push({ ...scoped, kind: 'keyword', find: (t) => re.exec(t)?.[0] });
        return;
      }
      case 'content_regex': {
        const flags = (r.flags ?? 'iu').replace(/[gy]/g, '');
        const re = new RegExp(r.pattern, flags);
        this.content.push({ ...scoped, kind: 'content_regex', find: (t) => re.exec(t)?.[0] });
        return;
      }
      case 'url_shortener': {
        const domains = new Set(
          (r.domains ?? DEFAULT_URL_SHORTENERS).map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')),
        );
        this.content.push({ ...scoped, kind: 'url_shortener', find: (t) => findShortener(t, domains) });
        return;
      }
      case 'duplicate':
        positive(r.windowSeconds, 'windowSeconds');
        this.duplicates.push({ ...scoped, windowMs: r.windowSeconds * 1000 });
        return;
      case 'velocity_prefix': {
        positive(r.limit, 'limit');
        positive(r.windowSeconds, 'windowSeconds');
        if (r.prefixes.length === 0) throw new Error('no prefixes');
        r.prefixes.forEach(validPrefix);
        const trie = new DigitTrie<string>(16);
        for (const p of r.prefixes) trie.set(p, p);
        this.velocityPrefix.push({
          ...scoped,
          trie: trie.compact(),
          limit: r.limit,
          windowMs: r.windowSeconds * 1000,
        });
        return;
      }
      case 'velocity_account':
        positive(r.limit, 'limit');
        positive(r.windowSeconds, 'windowSeconds');
        this.velocityAccount.push({ ...scoped, limit: r.limit, windowMs: r.windowSeconds * 1000 });
        return;
      case 'sequential_burst':
        if (!(r.count >= 2)) throw new Error('count must be >= 2');
        if (!(r.varyingDigits >= 1 && r.varyingDigits <= 6)) throw new Error('varyingDigits must be 1..6');
        positive(r.windowSeconds, 'windowSeconds');
        this.bursts.push({
          ...scoped,
          count: r.count,
          windowMs: r.windowSeconds * 1000,
          varyingDigits: r.varyingDigits,
        });
        return;
    }
  }

  /**
   * Runs every check. Returns the rejection, or null when the message is admitted (and then records it in
   * `state`).
   */
  check(m: FirewallInput, state: FirewallState): RejectedDecision | null {
    const fixed = this.checkStatic(m);
    if (fixed) return fixed;
    return this.checkStateful(m, state);
  }

  /** Steps 1-3 (destination, sender, content): no state. */
  checkStatic(m: FirewallInput): RejectedDecision | null {
    const dest = m.destination;
    const digits = dest.e164.slice(1);
    const inScope = (r: Scoped) => appliesTo(r, m);

    // 1. destination
    let hit: { rule: DestRule; len: number } | undefined;
    this.destinations.forEachPrefixOf(digits, (rules, len) => {
      for (const r of rules) if (inScope(r)) return void (hit = { rule: r, len });
    });
    if (hit) {
      const r = hit.rule;
      const what = r.kind === 'premium_range' ? 'premium/unallocated range' : 'blocked destination';
      return reject('firewall_destination', r.id, r.reason ?? `${what} +${digits.slice(0, hit.len)}`, dest);
    }

    // 2. sender
    const kind = senderKind(m.sourceAddr, m.sourceTon);
    for (const r of this.senderDeny) {
      if (!inScope(r) || (r.senderKind !== undefined && r.senderKind !== kind)) continue;
      const p = r.patterns.find((x) => x.test(m.sourceAddr));
      if (p) return reject('firewall_sender', r.id, r.reason ?? `sender denied by ${p.source}`, dest);
    }
    let firstAllow: SenderRule | undefined;
    let allowed = false;
    for (const r of this.senderAllow) {
      if (!inScope(r) || (r.senderKind !== undefined && r.senderKind !== kind)) continue;
      firstAllow ??= r;
      if (r.patterns.some((x) => x.test(m.sourceAddr))) {
        allowed = true;
        break;
      }
    }
    if (firstAllow && !allowed) {
      return reject(
        'firewall_sender',
        firstAllow.id,
        firstAllow.reason ?? `${kind} sender not on the allow list for ${dest.country}`,
        dest,
      );
    }

    // 3. content
    if (m.text !== null) {
      for (const r of this.content) {
        if (!inScope(r)) continue;
        const found = r.find(m.text);
        if (found !== undefined) {
          const why =
            r.kind === 'keyword'
              ? `keyword "${found}"`
              : r.kind === 'url_shortener'
                ? `URL shortener ${found}`
                : 'content pattern';
          return reject('firewall_content', r.id, r.reason ?? why, dest);
        }
      }
    }

    return null;
  }

  /** Steps 4 and 5 in this process's memory, skipped for redeliveries of an admitted message. */
  private checkStateful(m: FirewallInput, state: FirewallState): RejectedDecision | null {
    const dest = m.destination;
    const digits = dest.e164.slice(1);
    const inScope = (r: Scoped) => appliesTo(r, m);
    if (state.wasAdmitted(m.hubMessageId, m.atMs)) return null;
    const records: Array<() => void> = [];
    if (m.text !== null && this.duplicates.length > 0) {
      const key = duplicateKey(m);
      for (const r of this.duplicates) {
        if (!inScope(r)) continue;
        const w = state.duplicateWindow(r.id, r.windowMs);
        const first = w.get(key, m.atMs);
        if (first !== undefined && first !== m.hubMessageId) {
          return reject(
            'duplicate',
            r.id,
            r.reason ?? `same text to the same number within ${r.windowMs / 1000} s (first: ${first})`,
            dest,
          );
        }
        records.push(() => w.set(key, m.hubMessageId, m.atMs));
      }
    }
    for (const r of this.velocityPrefix) {
      if (!inScope(r)) continue;
      const p = r.trie.longest(digits);
      if (!p) continue;
      const c = state.counter(r.id, r.windowMs);
      const key = p.value;
      if (c.count(key, m.atMs) >= r.limit) {
        return reject(
          'velocity',
          r.id,
          r.reason ?? `more than ${r.limit} messages to +${key} in ${r.windowMs / 1000} s`,
          dest,
        );
      }
      records.push(() => c.add(key, m.atMs));
    }
    for (const r of this.velocityAccount) {
      if (!inScope(r)) continue;
      const c = state.counter(r.id, r.windowMs);
      if (c.count(m.accountId, m.atMs) >= r.limit) {
        return reject(
          'velocity',
          r.id,
          r.reason ?? `account over ${r.limit} messages in ${r.windowMs / 1000} s`,
          dest,
        );
      }
      records.push(() => c.add(m.accountId, m.atMs));
    }
    const burst = this.checkBursts(m, state, records);
    if (burst) return burst;
    for (const rec of records) rec();
    state.admit(m.hubMessageId, m.atMs);
    return null;
  }

  /**
   * sequential_burst rules in this process's memory: the rejection, or null after pushing the records to
   * make when the message is admitted.
   */
  private checkBursts(
    m: FirewallInput,
    state: FirewallState,
    records: Array<() => void>,
  ): RejectedDecision | null {
    const dest = m.destination;
    for (const r of this.bursts) {
      if (!appliesTo(r, m)) continue;
      const d = state.burst(r.id, r.count, r.windowMs, r.varyingDigits);
      if (d.distinctWith(m.accountId, dest.e164, m.atMs) >= r.count) {
        return reject(
          'velocity',
          r.id,
          r.reason ??
            `${r.count} numbers differing only in the last ${r.varyingDigits} digits within ${r.windowMs / 1000} s`,
          dest,
        );
      }
      records.push(() => d.record(m.accountId, dest.e164, m.atMs));
    }
    return null;
  }

  /**
   * For windows shared by every replica (SharedFirewallWindows): the message's sequential_burst check in
   * this process's memory (recorded at once when it passes: bursts stay per replica), then its duplicate
   * and velocity needs, or undefined when no such rule applies to it. Call after checkStatic.
   */
  prepareShared(
    m: FirewallInput,
    state: FirewallState,
  ): { rejected: RejectedDecision } | { check: StatefulCheck | undefined } {
    if (this.bursts.length > 0 && !state.wasAdmitted(m.hubMessageId, m.atMs)) {
      const records: Array<() => void> = [];
      const burst = this.checkBursts(m, state, records);
      if (burst) return { rejected: burst };
      for (const rec of records) rec();
      state.admit(m.hubMessageId, m.atMs);
    }
    const dest = m.destination;
    const digits = dest.e164.slice(1);
    const duplicates: DuplicateNeed[] = [];
    const velocity: VelocityNeed[] = [];
    if (m.text !== null && this.duplicates.length > 0) {
      let key: string | undefined;
      for (const r of this.duplicates) {
        if (!appliesTo(r, m)) continue;
        key ??= duplicateKey(m);
        const windowMs = r.windowMs;
        duplicates.push({
          ruleId: r.id,
          ruleKey: `${r.id}@${windowMs}`,
          key,
          windowMs,
          reason: (first) =>
            r.reason ?? `same text to the same number within ${windowMs / 1000} s (first: ${first})`,
        });
      }
    }
    for (const r of this.velocityPrefix) {
      if (!appliesTo(r, m)) continue;
      const p = r.trie.longest(digits);
      if (!p) continue;
      velocity.push({
        ruleId: r.id,
        ruleKey: `${r.id}@${r.windowMs}`,
        key: p.value,
        limit: r.limit,
        windowMs: r.windowMs,
        reason: r.reason ?? `more than ${r.limit} messages to +${p.value} in ${r.windowMs / 1000} s`,
      });
    }
    for (const r of this.velocityAccount) {
      if (!appliesTo(r, m)) continue;
      velocity.push({
        ruleId: r.id,
        ruleKey: `${r.id}@${r.windowMs}`,
        key: m.accountId,
        limit: r.limit,
        windowMs: r.windowMs,
        reason: r.reason ?? `account over ${r.limit} messages in ${r.windowMs / 1000} s`,
      });
    }
    if (duplicates.length === 0 && velocity.length === 0) return { check: undefined };
    return { check: { hubMessageId: m.hubMessageId, destination: dest, duplicates, velocity } };
  }
}

/** One 128-bit digest of account, destination and text keeps the windows' keys small. */
function duplicateKey(m: FirewallInput): string {
  return createHash('sha256')
    .update(`${m.accountId}\u0000${m.destination.e164}\u0000${m.text ?? ''}`)
    .digest('base64url')
    .slice(0, 22);
}

export interface FirewallStateOptions {
  /** Bound on keys per velocity counter / burst detector (default 100,000; ~200-500 B each). */
  maxKeysPerRule?: number;
  /**
   * Bound on remembered messages per duplicate rule (default 1,000,000; ~150 B each). Size it to at least
   * peak messages/s x window seconds, or the oldest entries are forgotten early (fail-open).
   */
  maxDuplicateKeysPerRule?: number;
  /** How long an admitted hubMessageId is remembered for redelivery detection. Default 2 minutes. */
  redeliveryWindowMs?: number;
  /** Bound on remembered hubMessageIds (default 250,000). */
  maxRememberedIds?: number;
}

/**
 * Mutable counters of the firewall, keyed by rule id so they survive table swaps. A rule whose window
 * settings changed gets fresh counters.
 */
export class FirewallState {
  private readonly counters = new Map<string, SlidingWindowCounter>();
  private readonly bursts = new Map<string, SequentialBurstDetector>();
  private readonly dups = new Map<string, ExpiringKeySet<string>>();
  private readonly admitted: ExpiringKeySet<true>;
  private readonly maxKeys: number;
  private readonly dupMaxKeys: number;

  constructor(options: FirewallStateOptions = {}) {
    this.maxKeys = options.maxKeysPerRule ?? 100_000;
    this.dupMaxKeys = options.maxDuplicateKeysPerRule ?? 1_000_000;
    this.admitted = new ExpiringKeySet<true>(
      options.redeliveryWindowMs ?? 120_000,
      options.maxRememberedIds ?? 250_000,
    );
  }

  wasAdmitted(hubMessageId: string, nowMs: number): boolean {
    return this.admitted.get(hubMessageId, nowMs) === true;
  }

  admit(hubMessageId: string, nowMs: number): void {
    this.admitted.set(hubMessageId, true, nowMs);
  }

  counter(ruleId: string, windowMs: number): SlidingWindowCounter {
    let c = this.counters.get(ruleId);
    if (!c || c.windowMs !== windowMs) {
      c = new SlidingWindowCounter(windowMs, this.maxKeys);
      this.counters.set(ruleId, c);
    }
    return c;
  }

  burst(ruleId: string, count: number, windowMs: number, varyingDigits: number): SequentialBurstDetector {
    let d = this.bursts.get(ruleId);
    if (!d || d.threshold !== count || d.windowMs !== windowMs || d.varyingDigits !== varyingDigits) {
      d = new SequentialBurstDetector(count, windowMs, varyingDigits, this.maxKeys);
      this.bursts.set(ruleId, d);
    }
    return d;
  }

  duplicateWindow(ruleId: string, windowMs: number): ExpiringKeySet<string> {
    let w = this.dups.get(ruleId);
    if (!w || w.windowMs !== windowMs) {
      w = new ExpiringKeySet<string>(windowMs, this.dupMaxKeys);
      this.dups.set(ruleId, w);
    }
    return w;
  }

  /** Drops state of rules that no longer exist (call after a swap). */
  retain(ruleIds: ReadonlySet<string>): void {
    for (const m of [this.counters, this.bursts, this.dups] as Array<Map<string, unknown>>) {
      for (const k of m.keys()) if (!ruleIds.has(k)) m.delete(k);
    }
  }
}
