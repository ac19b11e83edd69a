// smshub.billing.v1.SettlementService over the CDR store (GRPC_PORT, 50053 by default).

import * as grpc from '@grpc/grpc-js';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import {
  SettlementParty,
  SettlementPeriod,
  SettlementServiceService,
  type BillingRated,
  type CheckReconciliationRequest,
  type CheckReconciliationResponse,
  type ExportCsvRequest,
  type ExportCsvResponse,
  type GetTotalsRequest,
  type GetTotalsResponse,
  type Money,
  type ReconciliationLine,
  type SettlementQuery,
  type SettlementServiceServer,
  type SupplierFigure,
  type TopicSpec,
} from '@smshub/contracts';
import { startGrpcServer, type GrpcServer, type TlsFiles } from '@smshub/grpc';
import {
  accountScope,
  AuthError,
  callInfo,
  guardService,
  permissionDenied,
  type Guard,
  type Principal,
} from '@smshub/auth';
import type { Logger } from '@smshub/logging';
import { minorExponent, parseDecimal, pow10 } from './domain/money.js';
import { csvField, toCsv, type Party, type Period } from './domain/settlement.js';
import { formatMinor } from './domain/money.js';
import { countRatedTopic } from './rated-topic-reader.js';
import { money } from './record.js';
import {
  countCdrs,
  queryCdrPage,
  queryTotals,
  recordCountKey,
  type RecordCount,
  type TotalsQuery,
} from './settlement-store.js';

class InvalidArgument extends Error {}

function invalid(message: string): never {
  throw new InvalidArgument(message);
}

function period(p: SettlementPeriod): Period {
  if (p === SettlementPeriod.SETTLEMENT_PERIOD_DAY) return 'day';
  if (p === SettlementPeriod.SETTLEMENT_PERIOD_MONTH) return 'month';
  return invalid('period must be SETTLEMENT_PERIOD_DAY or SETTLEMENT_PERIOD_MONTH');
}

function aligned(t: Date, p: Period): boolean {
  const d = new Date(t.getTime());
  return (
    d.getUTCHours() === 0 &&
    d.getUTCMinutes() === 0 &&
    d.getUTCSeconds() === 0 &&
    d.getUTCMilliseconds() === 0 &&
    (p === 'day' || d.getUTCDate() === 1)
  );
}

function range(start: Date | undefined, end: Date | undefined, p: Period): { start: Date; end: Date } {
  if (start === undefined || end === undefined) invalid('start_time and end_time are required');
  if (end.getTime() <= start.getTime()) invalid('end_time must be after start_time');
  if (!aligned(start, p)) invalid(`start_time must be aligned to a UTC ${p}`);
  return { start, end };
}

export function totalsQuery(q: SettlementQuery | undefined): TotalsQuery {
  if (q === undefined) invalid('query is required');
  let party: Party;
  if (q.party === SettlementParty.SETTLEMENT_PARTY_CUSTOMER) party = 'customer';
  else if (q.party === SettlementParty.SETTLEMENT_PARTY_SUPPLIER) party = 'supplier';
  else invalid('party must be SETTLEMENT_PARTY_CUSTOMER or SETTLEMENT_PARTY_SUPPLIER');
  const p = period(q.period);
  return {
    party,
    partyId: q.partyId,
    period: p,
    ...range(q.startTime, q.endTime, p),
    byDestination: q.byDestination,
  };
}

const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

function pageOffset(token: string): number {
  if (token === '') return 0;
  const n = Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^o:/, ''));
  if (!Number.isSafeInteger(n) || n < 0) invalid('bad page_token');
  return n;
}

const PER_MESSAGE_HEADER = [
  'message_id',
  'rated_at',
  'submitted_at',
  'account_id',
  'supplier_id',
  'connector_id',
  'country',
  'mcc_mnc',
  'segments',
  'status',
  'sell_currency',
  'sell',
  'buy_currency',
  'buy',
  'margin',
];

/** Exact comparison of two Money values at the larger scale. */
function atScale(m: Money, scale: number): bigint {
  return m.minorUnits * pow10(scale - m.scale);
}

function parseSupplierCsv(csv: Buffer, currencyDefault: string): SupplierFigure[] {
  const lines = csv
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) invalid(`supplier csv: no ${name} column`);
    return i;
  };
  const [iPeriod, iMcc, iMessages, iAmount] = [
    col('period_start'),
    col('mcc_mnc'),
    col('messages'),
    col('amount'),
  ];
  const iCurrency = header.indexOf('currency');
  return lines.map((line, n) => {
    const f = line.split(',').map((x) => x.trim());
    const start = new Date(f[iPeriod] ?? '');
    if (Number.isNaN(start.getTime())) invalid(`supplier csv line ${n + 2}: bad period_start`);
    const currency = (iCurrency >= 0 ? f[iCurrency] : undefined) || currencyDefault;
    const amount = parseDecimal(f[iAmount] ?? '');
    let scale = 0;
    while (pow10(scale) % amount.den !== 0n) scale++;
    return {
      periodStart: start,
      destinationMccMnc: f[iMcc] ?? '',
      messages: BigInt(f[iMessages] ?? '0'),
      amount: { currencyCode: currency, minorUnits: (amount.num * pow10(scale)) / amount.den, scale },
    };
  });
}

export interface SettlementDeps {
  pool: Pool;
  kafka: Kafka;
  rated: TopicSpec<BillingRated>;
  logger: Logger;
  /** Authentication and roles (libs/auth): every call needs a token. */
  guard: Guard;
}

/**
 * A customer token reads customer totals of its own account only (party_id filled in when empty), never
 * margins and never the per-message export (which carries buy prices and suppliers).
 */
function scoped(
  caller: Principal,
  q: SettlementQuery | undefined,
  perMessage = false,
): SettlementQuery | undefined {
  if (caller.role !== 'customer' || q === undefined) return q;
  if (q.party !== SettlementParty.SETTLEMENT_PARTY_CUSTOMER) {
    throw permissionDenied('a customer token reads only SETTLEMENT_PARTY_CUSTOMER totals of its own account');
  }
  if (perMessage) throw permissionDenied('the per-message export needs role admin or finance');
  return { ...q, partyId: accountScope(caller, q.partyId, 'query.party_id') };
}

export function settlementService(deps: SettlementDeps): SettlementServiceServer {
  const { pool } = deps;

  async function getTotals(req: GetTotalsRequest, caller: Principal): Promise<GetTotalsResponse> {
    const q = totalsQuery(scoped(caller, req.query));
    const showMargin = caller.role !== 'customer';
    const size = req.pageSize <= 0 ? DEFAULT_PAGE : Math.min(req.pageSize, MAX_PAGE);
    const offset = pageOffset(req.pageToken);
    const rows = await queryTotals(pool, q, { limit: size + 1, offset });
    const more = rows.length > size;
    return {
      totals: rows.slice(0, size).map((r) => {
        const t = {
          partyId: r.partyId,
          periodStart: r.periodStart,
          destinationCountry: r.country,
          destinationMccMnc: r.mccMnc,
          messages: BigInt(r.messages),
          segments: BigInt(r.segments),
          amount: money(r.amountMinor, r.currency),
          ...(r.marginMinor !== undefined && showMargin ? { margin: money(r.marginMinor, r.currency) } : {}),
        };
        return t;
      }),
      nextPageToken: more ? Buffer.from(`o:${offset + size}`).toString('base64url') : '',
    };
  }

  async function* exportCsv(req: ExportCsvRequest, caller: Principal): AsyncGenerator<ExportCsvResponse> {
    const q = totalsQuery(scoped(caller, req.query, req.perMessage));
    if (!req.perMessage) {
      // Totals are small (parties x periods x destinations); one query, chunks of 64 KiB.
      const csv = Buffer.from(toCsv(await queryTotals(pool, q)), 'utf8');
      for (let i = 0; i < csv.length; i += 65_536) yield { chunk: csv.subarray(i, i + 65_536) };
      return;
    }
    yield { chunk: Buffer.from(`${PER_MESSAGE_HEADER.join(',')}\r\n`, 'utf8') };
    let after: { ratedAt: Date; id: string } | undefined;
    for (;;) {
      const page = await queryCdrPage(pool, q, after, 2000);
      if (page.length === 0) return;
      const lines = page.map((r) =>
        [
          r.hubMessageId,
          r.ratedAt.toISOString(),
          r.submittedAt.toISOString(),
          r.accountId,
          r.supplierId,
          r.connectorId,
          r.country,
          r.mccMnc,
          String(r.segments),
          r.status,
          r.sellCurrency,
          formatMinor(r.sellMinor, r.sellCurrency),
          r.buyCurrency,
          formatMinor(r.buyMinor, r.buyCurrency),
          r.marginMinor === null ? '' : formatMinor(r.marginMinor, r.sellCurrency),
        ]
          .map(csvField)
          .join(','),
      );
      yield { chunk: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8') };
      const last = page[page.length - 1]!;
      after = { ratedAt: last.ratedAt, id: last.hubMessageId };
    }
  }

  function countLines(cdr: RecordCount[], topic: RecordCount[]): ReconciliationLine[] {
    const keys = new Map<string, { cdr?: RecordCount; topic?: RecordCount }>();
    for (const r of cdr) keys.set(recordCountKey(r), { ...keys.get(recordCountKey(r)), cdr: r });
    for (const r of topic) keys.set(recordCountKey(r), { ...keys.get(recordCountKey(r)), topic: r });
    return [...keys.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, pair]) => {
        const ref = (pair.cdr ?? pair.topic)!;
        const hubAmount = pair.cdr?.amountMinor ?? 0n;
        const topicAmount = pair.topic?.amountMinor ?? 0n;
        const hubMessages = pair.cdr?.messages ?? 0;
        const topicMessages = pair.topic?.messages ?? 0;
        return {
          periodStart: new Date(ref.periodStart),
          destinationMccMnc: ref.mccMnc,
          hubMessages: BigInt(hubMessages),
          supplierMessages: BigInt(topicMessages),
          hubAmount: money(hubAmount, ref.currency),
          supplierAmount: money(topicAmount, ref.currency),
          difference: money(topicAmount - hubAmount, ref.currency),
          matched: hubMessages === topicMessages && hubAmount === topicAmount,
        };
      });
  }

  async function checkReconciliation(req: CheckReconciliationRequest): Promise<CheckReconciliationResponse> {
    const p = period(req.period);
    const { start, end } = range(req.startTime, req.endTime, p);
    if (req.figures.length === 0 && req.csv.length === 0) {
      // No supplier figures: reconcile the CDR store with the rated topic itself (docs/finance.md).
      const q = { supplierId: req.supplierId, period: p, start, end };
      const [cdr, topic] = await Promise.all([
        countCdrs(pool, q),
        countRatedTopic(deps.kafka, deps.rated, q),
      ]);
      const lines = countLines(cdr, topic);
      return { lines, allMatched: lines.every((l) => l.matched) };
    }
    if (req.supplierId === '') invalid('supplier_id is required with supplier figures');
    const figures = req.figures.length > 0 ? req.figures : parseSupplierCsv(req.csv, '');
    const byDestination = figures.some((f) => f.destinationMccMnc !== '');
    const hub = await queryTotals(pool, {
      party: 'supplier',
      partyId: req.supplierId,
      period: p,
      start,
      end,
      byDestination,
    });
    const lines: ReconciliationLine[] = [];
    const used = new Set<number>();
    for (const f of figures) {
      if (f.periodStart === undefined || f.amount === undefined)
        invalid('every figure needs period_start and amount');
      const i = hub.findIndex(
        (h, idx) =>
          !used.has(idx) &&
          h.periodStart.getTime() === f.periodStart!.getTime() &&
          h.mccMnc === f.destinationMccMnc &&
          h.currency === f.amount!.currencyCode,
      );
      const h = i >= 0 ? hub[i] : undefined;
      if (i >= 0) used.add(i);
      const hubMoney = money(h?.amountMinor ?? 0n, f.amount.currencyCode);
      const scale = Math.max(hubMoney.scale, f.amount.scale, minorExponent(f.amount.currencyCode));
      const diff = atScale(f.amount, scale) - atScale(hubMoney, scale);
      const base = atScale(hubMoney, scale);
      const absDiff = diff < 0n ? -diff : diff;
      const absBase = base < 0n ? -base : base;
      const hubMessages = BigInt(h?.messages ?? 0);
      lines.push({
        periodStart: f.periodStart,
        destinationMccMnc: f.destinationMccMnc,
        hubMessages,
        supplierMessages: f.messages,
        hubAmount: hubMoney,
        supplierAmount: f.amount,
        difference: { currencyCode: f.amount.currencyCode, minorUnits: diff, scale },
        matched: hubMessages === f.messages && absDiff * 1_000_000n <= BigInt(req.tolerancePpm) * absBase,
      });
    }
    hub.forEach((h, idx) => {
      if (used.has(idx)) return;
      lines.push({
        periodStart: h.periodStart,
        destinationMccMnc: h.mccMnc,
        hubMessages: BigInt(h.messages),
        supplierMessages: 0n,
        hubAmount: money(h.amountMinor, h.currency),
        supplierAmount: money(0n, h.currency),
        difference: money(-h.amountMinor, h.currency),
        matched: false,
      });
    });
    return { lines, allMatched: lines.every((l) => l.matched) };
  }

  function fail(err: unknown): grpc.ServiceError {
    const invalidArg = err instanceof InvalidArgument;
    const refused = err instanceof AuthError;
    if (!invalidArg && !refused) deps.logger.error({ err }, 'settlement request failed');
    return Object.assign(new Error(err instanceof Error ? err.message : String(err)), {
      code: refused ? err.code : invalidArg ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL,
      details: err instanceof Error ? err.message : String(err),
      metadata: new grpc.Metadata(),
    });
  }

  const impl: SettlementServiceServer = {
    getTotals(call, callback) {
      Promise.resolve()
        .then(() => getTotals(call.request, callInfo(call).principal))
        .then(
          (r) => callback(null, r),
          (err: unknown) => callback(fail(err)),
        );
    },
    exportCsv(call) {
      void (async () => {
        try {
          for await (const chunk of exportCsv(call.request, callInfo(call).principal)) {
            if (call.cancelled) return;
            if (!call.write(chunk)) await new Promise((resolve) => call.once('drain', resolve));
          }
          call.end();
        } catch (err) {
          // emit, not destroy: a destroyed stream never runs _final, so the status would never be sent.
          call.emit('error', fail(err));
        }
      })();
    },
    checkReconciliation(call, callback) {
      checkReconciliation(call.request).then(
        (r) => callback(null, r),
        (err: unknown) => callback(fail(err)),
      );
    },
  };
  return guardService(SettlementServiceService, impl, deps.guard);
}

export type { GrpcServer };

export const SETTLEMENT_SERVICE_NAME = 'smshub.billing.v1.SettlementService';

/** Starts SettlementService and grpc.health.v1 (libs/grpc: host, default 127.0.0.1; TLS; graceful stop). */
export function startSettlementServer(
  deps: SettlementDeps,
  listen: { port: number; host?: string; tls?: TlsFiles },
): Promise<GrpcServer> {
  return startGrpcServer({
    ...listen,
    services: [
      {
        name: SETTLEMENT_SERVICE_NAME,
        definition: SettlementServiceService,
        implementation: settlementService(deps) as unknown as grpc.UntypedServiceImplementation,
      },
    ],
    logger: deps.logger,
  });
}
