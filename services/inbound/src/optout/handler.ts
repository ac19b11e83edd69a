// STOP/START/HELP for one inbound message: the opt-out list (optouts, 0320), the audit trail
// (admin_audit_log + audit.v1, actor = the subscriber's number), the change announced on config.changes.v1
// (routing's in-memory lists) and the hub's reply to the subscriber (sms.submitted.v1).
//
// At least once, never twice: the message's keyword event (optout_keyword_events, by message id), the
// opt-out change and its audit row commit in one transaction, so a redelivered MO changes and audits
// nothing again. What follows the commit is repeated on a redelivery and harmless when repeated: the
// changes are announced again (routing applies an add or remove idempotently) and the reply is published
// again with the same message id (derived from the MO's), which the hub's dispatch deduplicates.
//
// A START removes both the opt-out for the hub number it was sent to and an account-wide one (a STOPALL):
// the subscriber is asking that number to write again, and no other entry would let it.
import { createHash, randomBytes } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import {
  ChangeAction,
  OptOutSource,
  ResourceKind,
  SmsSubmitted,
  SubmitChannel,
  TrafficType,
  type AuditEvent,
  type ConfigChange,
  type OptOut,
  type SmsInbound,
  type topics as registry,
} from '@smshub/contracts';
import { store, withTransaction, type Pool, type PoolClient } from '@smshub/db';
import type { TypedProducer } from '@smshub/kafka';
import { maskNumber, type Logger } from '@smshub/logging';
import { segmentText } from '@smshub/smpp';
import { counter } from '@smshub/telemetry';
import { matchKeyword, replyText, type KeywordMatch, type KeywordSet } from './match.js';

export const keywordMetrics = {
  keywords: counter(
    'smshub_inbound_keywords_total',
    'Inbound messages acted on as opt-out keywords, by action (stop, stop_all, start, help) and whether this delivery was the first (first) or a redelivery (repeat)',
    ['action', 'delivery'],
  ),
  replies: counter('smshub_inbound_keyword_replies_total', 'Replies published to subscribers by action', [
    'action',
  ]),
};

export interface KeywordHandlerDeps {
  pool: Pool;
  producer: Pick<TypedProducer, 'produce'>;
  topics: Pick<typeof registry, 'submitted' | 'configChanges' | 'audit'>;
  logger: Logger;
  now: () => Date;
  /** How long the keyword sets are reused before reading them again (default 10 s). */
  cacheMs?: number;
  /** Validity of a reply (default 24 h). */
  replyValidityMs?: number;
  /** Log subscriber numbers unmasked. */
  debugNumbers?: boolean;
}

/** What was done for a message (undefined from handle(): not a keyword). */
export interface KeywordResult {
  match: KeywordMatch;
  /** False when the message had been acted on before (a redelivery). */
  first: boolean;
  /** Opt-outs added or removed by this delivery. */
  changed: OptOut[];
  /** Message id of the reply published, if any. */
  replyId?: string;
}

const digits = (address: string): string => address.replace(/[^0-9]/g, '').replace(/^00/, '');

/** ISO country of a subscriber's E.164 digits ("" when unknown). */
export function countryOf(msisdn: string): string {
  return parsePhoneNumberFromString(`+${msisdn}`)?.country ?? '';
}

function uuid(timeHex: string, rest: string): string {
  const variant = ((parseInt(rest[3]!, 16) & 0x3) | 0x8).toString(16);
  const hex = `${timeHex}7${rest.slice(0, 3)}${variant}${rest.slice(4, 19)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A fresh UUIDv7 at `now`. */
export function uuidv7(now: Date): string {
  return uuid(now.getTime().toString(16).padStart(12, '0').slice(-12), randomBytes(10).toString('hex'));
}

/** The reply's message id: a UUIDv7 with the MO's time, the rest from a hash of the MO id (stable). */
export function replyMessageId(moId: string): string {
  const h = createHash('sha256').update(`${moId}|keyword-reply`).digest('hex');
  const ts = moId.replace(/-/g, '').slice(0, 12).padEnd(12, '0');
  return uuid(ts, h);
}

interface SetRow {
  account_id: string;
  country: string;
  language: string;
  stop_keywords: string[];
  stop_all_keywords: string[];
  start_keywords: string[];
  help_keywords: string[];
  help_reply: string;
  stop_reply: string;
  start_reply: string;
  scope: string;
}

export function setFromRow(r: SetRow): KeywordSet {
  return {
    accountId: r.account_id,
    country: r.country,
    language: r.language,
    stop: r.stop_keywords,
    stopAll: r.stop_all_keywords,
    start: r.start_keywords,
    help: r.help_keywords,
    helpReply: r.help_reply,
    stopReply: r.stop_reply,
    startReply: r.start_reply,
    scope: r.scope === 'account' ? 'account' : 'number',
  };
}

interface OptOutRow {
  account_id: string;
  msisdn: string;
  scope_number: string;
  source: string;
  keyword: string;
  created_at: Date;
  actor: string;
}

const SOURCES: Record<string, OptOutSource> = {
  keyword: OptOutSource.OPT_OUT_SOURCE_KEYWORD,
  import: OptOutSource.OPT_OUT_SOURCE_IMPORT,
  api: OptOutSource.OPT_OUT_SOURCE_API,
};

function optOutFromRow(r: OptOutRow): OptOut {
  return {
    accountId: r.account_id,
    msisdn: r.msisdn,
    scopeNumber: r.scope_number,
    source: SOURCES[r.source] ?? OptOutSource.OPT_OUT_SOURCE_UNSPECIFIED,
    keyword: r.keyword,
    createTime: r.created_at,
    actor: r.actor,
  };
}

const RETURNING = `RETURNING account_id::text AS account_id, msisdn, scope_number, source, keyword, created_at, actor`;

export class KeywordHandler {
  private sets: { at: number; sets: KeywordSet[] } | undefined;

  constructor(private readonly deps: KeywordHandlerDeps) {}

  /** The keyword sets, read at most every cacheMs. */
  private async keywordSets(): Promise<KeywordSet[]> {
    const now = this.deps.now().getTime();
    if (this.sets && now - this.sets.at < (this.deps.cacheMs ?? 10_000)) return this.sets.sets;
    const { rows } = await store('reading the opt-out keyword sets', () =>
      this.deps.pool.query<SetRow>(`SELECT * FROM optout_keyword_sets`),
    );
    this.sets = { at: now, sets: rows.map(setFromRow) };
    return this.sets.sets;
  }

  /** Acts on `m` when its text is a keyword; undefined when it is not. */
  async handle(m: SmsInbound): Promise<KeywordResult | undefined> {
    if (m.text === '' || m.accountId === '') return undefined;
    const subscriber = digits(m.source?.address ?? '');
    const hubNumber = digits(m.destination?.address ?? '');
    if (!/^[1-9][0-9]{5,14}$/.test(subscriber)) return undefined;
    const match = matchKeyword(m.text, await this.keywordSets(), m.accountId, countryOf(subscriber));
    if (!match) return undefined;
    const log = this.deps.logger.child({
      moId: m.messageId,
      accountId: m.accountId,
      subscriber: maskNumber(subscriber, this.deps.debugNumbers === true),
      keyword: match.keyword,
    });
    const scopeNumber =
      match.action === 'stop_all' || match.set.scope === 'account' || hubNumber === '' ? '' : hubNumber;
    const audits: AuditEvent[] = [];
    const { first, changed } = await store('storing an opt-out keyword', () =>
      withTransaction(this.deps.pool, async (c) => {
        const ev = await c.query(
          `INSERT INTO optout_keyword_events (message_id, account_id, action, keyword) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id) DO NOTHING`,
          [m.messageId, m.accountId, match.action, match.keyword],
        );
        if (ev.rowCount === 0) return { first: false, changed: [] as OptOut[] };
        if (match.action === 'help') return { first: true, changed: [] as OptOut[] };
        const rows =
          match.action === 'start'
            ? await this.remove(c, m.accountId, subscriber, hubNumber)
            : await this.add(c, m.accountId, subscriber, scopeNumber, match.keyword);
        const out = rows.map(optOutFromRow);
        for (const o of out) audits.push(await this.audit(c, m, match, o));
        return { first: true, changed: out };
      }),
    );
    keywordMetrics.keywords.inc({ action: match.action, delivery: first ? 'first' : 'repeat' });
    log.info({ action: match.action, first, changed: changed.length }, 'opt-out keyword');

    // Announced every time (idempotent for routing), so a crash after the commit loses no change.
    const announce: { o: OptOut; action: ChangeAction }[] =
      match.action === 'help'
        ? []
        : match.action === 'start'
          ? [hubNumber, ''].map((scope) => ({
              o: this.entry(m.accountId, subscriber, scope, match.keyword),
              action: ChangeAction.CHANGE_ACTION_DELETED,
            }))
          : [
              {
                o: changed[0] ?? this.entry(m.accountId, subscriber, scopeNumber, match.keyword),
                action: ChangeAction.CHANGE_ACTION_CREATED,
              },
            ];
    for (const a of announce)
      await this.deps.producer.produce(this.deps.topics.configChanges, this.change(a));
    for (const e of audits) {
      try {
        await this.deps.producer.produce(this.deps.topics.audit, e);
      } catch (err) {
        // Stored with the change; the SIEM copy is best effort, as admin's.
        log.error({ err, audit: e }, 'publishing an audit event failed');
      }
    }

    const text = replyText(match);
    let replyId: string | undefined;
    if (text !== '' && m.source && m.destination) {
      replyId = replyMessageId(m.messageId);
      await this.deps.producer.produce(this.deps.topics.submitted, this.reply(m, replyId, text));
      keywordMetrics.replies.inc({ action: match.action });
    }
    return { match, first, changed, ...(replyId ? { replyId } : {}) };
  }

  private entry(accountId: string, msisdn: string, scopeNumber: string, keyword: string): OptOut {
    return {
      accountId,
      msisdn,
      scopeNumber,
      source: OptOutSource.OPT_OUT_SOURCE_KEYWORD,
      keyword,
      createTime: this.deps.now(),
      actor: `+${msisdn}`,
    };
  }

  private async add(
    c: PoolClient,
    accountId: string,
    msisdn: string,
    scopeNumber: string,
    keyword: string,
  ): Promise<OptOutRow[]> {
    const { rows } = await c.query<OptOutRow>(
      `INSERT INTO optouts (account_id, msisdn, scope_number, source, keyword, created_at, actor)
       VALUES ($1, $2, $3, 'keyword', $4, $5, $6) ON CONFLICT DO NOTHING ${RETURNING}`,
      [accountId, msisdn, scopeNumber, keyword, this.deps.now(), `+${msisdn}`],
    );
    return rows;
  }

  private async remove(
    c: PoolClient,
    accountId: string,
    msisdn: string,
    hubNumber: string,
  ): Promise<OptOutRow[]> {
    const { rows } = await c.query<OptOutRow>(
      `DELETE FROM optouts WHERE account_id = $1 AND msisdn = $2 AND scope_number IN ($3, '') ${RETURNING}`,
      [accountId, msisdn, hubNumber],
    );
    return rows;
  }

  /** The audit row of one change, in the change's transaction; returned for audit.v1. */
  private async audit(c: PoolClient, m: SmsInbound, match: KeywordMatch, o: OptOut): Promise<AuditEvent> {
    const removed = match.action === 'start';
    const json = JSON.stringify({
      accountId: o.accountId,
      msisdn: o.msisdn,
      scopeNumber: o.scopeNumber,
      source: 'keyword',
      keyword: o.keyword,
      createTime: o.createTime?.toISOString(),
      actor: o.actor,
    });
    const event: AuditEvent = {
      eventId: uuidv7(this.deps.now()),
      time: this.deps.now(),
      tokenId: '',
      role: 'subscriber',
      tokenName: `+${o.msisdn}`,
      method: removed ? 'KeywordOptIn' : 'KeywordOptOut',
      resourceKind: 'opt_out',
      resourceId: `${o.accountId}/${o.msisdn}/${o.scopeNumber}`,
      beforeJson: removed ? json : '',
      afterJson: removed ? '' : JSON.stringify({ ...JSON.parse(json), keyword: match.keyword }),
      peer: `mo:${m.messageId}`,
      outcome: 'OK',
      error: '',
      service: 'inbound',
    };
    await c.query(
      `INSERT INTO admin_audit_log (event_id, at, token_id, role, token_name, method, resource_kind,
         resource_id, before_json, after_json, peer, outcome, error, service)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14)`,
      [
        event.eventId,
        event.time,
        event.tokenId,
        event.role,
        event.tokenName,
        event.method,
        event.resourceKind,
        event.resourceId,
        event.beforeJson || null,
        event.afterJson || null,
        event.peer,
        event.outcome,
        event.error,
        event.service,
      ],
    );
    return event;
  }

  private change(a: { o: OptOut; action: ChangeAction }): ConfigChange {
    const now = this.deps.now();
    return {
      changeId: uuidv7(now),
      kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
      resourceId: `${a.o.accountId}/${a.o.msisdn}/${a.o.scopeNumber}`,
      action: a.action,
      revision: BigInt(now.getTime()),
      changedAt: now,
      actor: a.o.actor,
      snapshot: { $case: 'optOut', value: a.o },
    };
  }

  /** The hub's reply: an MT of the account from the hub number to the subscriber, exempt from opt-out. */
  private reply(m: SmsInbound, messageId: string, text: string): SmsSubmitted {
    const now = this.deps.now();
    const payload = segmentText(text, { method: 'payload' });
    return SmsSubmitted.fromPartial({
      messageId,
      accountId: m.accountId,
      systemId: '',
      session: { replica: 'inbound', sessionId: m.messageId, systemId: '', remoteAddress: '' },
      source: m.destination,
      destination: { ton: 1, npi: 1, address: digits(m.source?.address ?? '') },
      registeredDelivery: 1,
      dataCoding: payload.dataCoding,
      shortMessage: payload.parts[0]!.messagePayload!,
      fromMessagePayload: true,
      validityUntil: new Date(now.getTime() + (this.deps.replyValidityMs ?? 24 * 3600_000)),
      receivedAt: now,
      customerMessageId: messageId,
      trafficType: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
      channel: SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY,
    });
  }
}
