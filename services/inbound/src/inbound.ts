// The inbound stage, built from explicit dependencies (main.ts wires the defaults; tests pass isolated
// topics and a test database).
//   sms.mo.v1 --> number -> account (hub_numbers) --> [long: inbound_parts until complete or timeout]
//             --> keyword hook (keywords.ts) --> sms.inbound.v1
// At least once: a batch's offsets commit after its messages are published (or its parts stored).
import type { Logger } from '@smshub/logging';
import type { Pool } from '@smshub/db';
import type { ConsumedRecord, ConsumerOptions, TypedConsumer, TypedProducer } from '@smshub/kafka';
import { maskNumber } from '@smshub/logging';
import { ConcatMethod, type SmsInbound, type SmsMo, type topics as registry } from '@smshub/contracts';
import type { InboundOptions } from './config.js';
import { Directory } from './directory.js';
import { numberKey, resolveAssignment } from './domain/assignment.js';
import { assemble, complete, textOf, userData, UDHI } from './domain/content.js';
import { applyKeywords } from './keywords.js';
import { consumed, defaultAccount, dropped, moReceived, partsWaiting, published } from './metrics.js';
import { PartStore, type StoredPart } from './parts-store.js';

export interface InboundDeps {
  options: InboundOptions;
  logger: Logger;
  consumer: (opts: Omit<ConsumerOptions, 'producer'>) => Promise<TypedConsumer>;
  producer: () => Promise<TypedProducer>;
  pool: Pool;
  topics: typeof registry;
  now?: () => Date;
}

export interface Inbound {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** One sweep for overdue groups now (tests; the timer calls it too). */
  sweep(): Promise<void>;
}

/** Who gets a message: the resolved account, or the default account, or nobody. */
interface Owner {
  accountId: string;
  keyword: string;
  isDefault: boolean;
}

type Form = 'whole' | 'reassembled' | 'part' | 'part_timeout';

export function groupKeyOf(mo: SmsMo): string {
  const c = mo.concat;
  return [
    mo.source?.address ?? '',
    numberKey(mo.destination?.address ?? ''),
    c?.method ?? ConcatMethod.CONCAT_METHOD_UNSPECIFIED,
    c?.reference ?? 0,
    c?.total ?? 1,
  ].join('/');
}

export function createInbound(deps: InboundDeps): Inbound {
  const { options, pool, topics } = deps;
  const log = deps.logger.child({ component: 'inbound' });
  const now = deps.now ?? (() => new Date());
  const directory = new Directory(pool, options.numberCacheMs);
  const parts = new PartStore(pool);
  let producer: TypedProducer | undefined;
  let consumer: TypedConsumer | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;

  async function owner(mo: SmsMo, text: string): Promise<Owner | undefined> {
    const number = numberKey(mo.destination?.address ?? '');
    const found = resolveAssignment(await directory.assignments(number), text, mo.receivedAt ?? now());
    if (found) return { accountId: found.accountId, keyword: found.keyword, isDefault: false };
    if (options.defaultAccountId)
      return { accountId: options.defaultAccountId, keyword: '', isDefault: true };
    return undefined;
  }

  function drop(mo: SmsMo, reason: string): void {
    dropped.inc({ reason });
    log.warn(
      {
        moId: mo.moId,
        to: maskNumber(mo.destination?.address ?? ''),
        connectorId: mo.connectorId,
        reason,
      },
      'inbound message dropped: the number is assigned to no account and no default account is set',
    );
  }

  /** The message as published: one part as received, or several parts' user data as one message. */
  function message(o: Owner, ps: readonly SmsMo[], asPart: boolean): SmsInbound {
    const first = ps[0] as SmsMo;
    const whole = asPart
      ? undefined
      : assemble(
          ps.map((p) => ({
            partNumber: p.concat?.partNumber ?? 1,
            shortMessage: p.shortMessage,
            esmClass: p.esmClass,
          })),
        );
    const data = whole ?? userData(first.shortMessage, first.esmClass);
    return {
      messageId: first.moId,
      accountId: o.accountId,
      source: first.source,
      destination: first.destination,
      dataCoding: first.dataCoding,
      esmClass: asPart ? first.esmClass & UDHI : 0,
      protocolId: first.protocolId,
      shortMessage: asPart ? Buffer.from(first.shortMessage) : data,
      text: textOf(data, first.dataCoding),
      parts: ps.length,
      concat: asPart && first.concat && (first.concat.total ?? 1) > 1 ? first.concat : undefined,
      moIds: ps.map((p) => p.moId),
      connectorId: first.connectorId,
      receivedAt: first.receivedAt,
      publishedAt: now(),
      keyword: o.keyword,
      defaultAccount: o.isDefault,
      serviceType: first.serviceType,
    };
  }

  async function publish(m: SmsInbound, form: Form): Promise<void> {
    const p = producer as TypedProducer;
    const outcome = await applyKeywords(m, { pool, logger: log, producer: p, topics, now });
    if (outcome.action === 'consume') {
      consumed.inc({ reason: outcome.reason });
      return;
    }
    if (m.defaultAccount) defaultAccount.inc();
    await p.produce(topics.inbound, m);
    published.inc({ form });
  }

  /** Publishes a complete group (whole, or part by part when the account wants parts). */
  async function publishGroup(ps: StoredPart[], timedOut: boolean): Promise<'published'> {
    const mos = ps.map((p) => p.mo);
    const first = mos.find((m) => (m.concat?.partNumber ?? 1) === 1);
    const text = timedOut
      ? first
        ? textOf(userData(first.shortMessage, first.esmClass), first.dataCoding)
        : ''
      : textOf(
          assemble(
            mos.map((m) => ({
              partNumber: m.concat?.partNumber ?? 1,
              shortMessage: m.shortMessage,
              esmClass: m.esmClass,
            })),
          ),
          mos[0]?.dataCoding ?? 0,
        );
    const o = await owner(mos[0] as SmsMo, text);
    if (!o) {
      for (const m of mos) drop(m, 'unassigned_number');
      return 'published';
    }
    const settings = await directory.account(o.accountId);
    if (timedOut || settings?.moReassemble === false) {
      for (const m of mos) await publish(message(o, [m], true), timedOut ? 'part_timeout' : 'part');
    } else {
      await publish(message(o, mos, false), 'reassembled');
    }
    return 'published';
  }

  async function onMo(mo: SmsMo): Promise<void> {
    moReceived.inc();
    const c = mo.concat;
    const text = textOf(userData(mo.shortMessage, mo.esmClass), mo.dataCoding);
    if (!c || (c.total ?? 1) <= 1) {
      const o = await owner(mo, text);
      if (!o) return drop(mo, 'unassigned_number');
      return publish(message(o, [mo], false), 'whole');
    }
    // A part: passed on at once when its account (known from this part alone) wants parts.
    const early = await owner(mo, c.partNumber === 1 ? text : '');
    if (early && (await directory.account(early.accountId))?.moReassemble === false) {
      return publish(message(early, [mo], true), 'part');
    }
    await parts.add(groupKeyOf(mo), { partNumber: c.partNumber, partTotal: c.total, mo }, async (ps) =>
      complete(
        ps.map((p) => p.partNumber),
        c.total,
      )
        ? publishGroup(ps, false)
        : 'wait',
    );
  }

  async function onBatch(records: ConsumedRecord<SmsMo>[]): Promise<void> {
    for (const r of records) await onMo(r.value);
  }

  async function sweep(): Promise<void> {
    const before = new Date(now().getTime() - options.reassemblyTimeoutMs);
    for (const key of await parts.overdue(before)) {
      await parts.expire(key, before, (ps) => publishGroup(ps, true));
    }
    await parts.purge(new Date(now().getTime() - Math.max(600_000, 2 * options.reassemblyTimeoutMs)));
    partsWaiting.set(await parts.waiting());
  }

  return {
    sweep,
    async start() {
      producer = await deps.producer();
      // MO is rare next to MT: an empty fetch waits 2 s (a record still answers it at once), half a fetch
      // and a heartbeat a second while idle instead of 2 + 1; a stop or a rebalance is noticed up to 2 s later.
      consumer = (await deps.consumer({ groupId: options.groupId, maxWaitMs: 2_000 })).onBatch(
        topics.mo,
        onBatch,
      );
      await consumer.start();
      const every = options.sweepMs ?? Math.min(5_000, Math.max(250, options.reassemblyTimeoutMs / 4));
      sweeper = setInterval(() => {
        if (sweeping) return;
        sweeping = sweep()
          .catch((err: unknown) => log.warn({ err }, 'inbound reassembly sweep failed (retried)'))
          .finally(() => {
            sweeping = undefined;
          });
      }, every);
      sweeper.unref();
    },
    async stop() {
      if (sweeper) clearInterval(sweeper);
      await consumer?.stop();
      await sweeping;
    },
  };
}
