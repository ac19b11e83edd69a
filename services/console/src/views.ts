// What the browser receives: the contracts' proto3 JSON (ts-proto toJSON: camelCase, 64-bit integers and
// enums as strings, timestamps as RFC 3339), minus message texts, plus a readable timeline. Pure functions.
//
// Decision: the console never shows the text of a message (shortMessage, rawText, receiptText, TLV values):
// NOC staff need where a message went and why, not what it said; the hub's logs follow the same rule.
import {
  deliveryStatusToJSON,
  HoldReason,
  messageStateToJSON,
  MessageSummary,
  TimelineEvent,
  type GetMessageResponse,
  type Money,
} from '@smshub/contracts';

const TEXT_KEYS = new Set(['shortMessage', 'rawText', 'receiptText', 'text', 'tlvs']);

/** `value` without message texts (recursively). */
export function withoutTexts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTexts);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !TEXT_KEYS.has(k))
        .map(([k, v]) => [k, withoutTexts(v)]),
    );
  }
  return value;
}

/** "EUR 0.045" from a Money (no float: decimal string of the minor units). */
export function formatMoney(m: Money | undefined): string {
  if (!m || !m.currencyCode) return '';
  const neg = m.minorUnits < 0n;
  const digits = (neg ? -m.minorUnits : m.minorUnits).toString().padStart(m.scale + 1, '0');
  let amount = m.scale === 0 ? digits : `${digits.slice(0, -m.scale)}.${digits.slice(-m.scale)}`;
  // Trim trailing zeros beyond 2 decimals (0.045000 -> 0.045, 1.500000 -> 1.50).
  if (m.scale > 2) amount = amount.replace(/(\.\d\d\d*?)0+$/, '$1');
  return `${m.currencyCode} ${neg ? '-' : ''}${amount}`;
}

const statusName = (s: number) => deliveryStatusToJSON(s).replace(/^DELIVERY_STATUS_/, '');

/** One line that says what an event means. */
export function describeEvent(e: TimelineEvent): string {
  const ev = e.event;
  if (!ev) return e.topic;
  switch (ev.$case) {
    case 'submitted': {
      const v = ev.value;
      return `accepted from account ${v.accountId}${v.systemId ? ` (system_id ${v.systemId})` : ''} over ${
        v.channel === 2 ? 'HTTP' : 'SMPP'
      }${v.customerMessageId ? `, customer id ${v.customerMessageId}` : ''}`;
    }
    case 'routed': {
      const c = ev.value.candidates.map((x) => x.connectorId).join(' → ');
      const first = ev.value.candidates[0];
      return `routed: ${c || 'no candidate'}${first?.ruleId ? ` (rule ${first.ruleId})` : ''}${
        first?.reason ? `: ${first.reason}` : ''
      }`;
    }
    case 'rejected':
      return `rejected${ev.value.ruleId ? ` by rule ${ev.value.ruleId}` : ''}: ${
        ev.value.error?.message ?? ev.value.reason
      }`;
    case 'dispatched': {
      const v = ev.value;
      const what = v.supplierMessageId
        ? `accepted by ${v.connectorId} as ${v.supplierMessageId}`
        : `to ${v.connectorId}: command_status 0x${v.commandStatus.toString(16).padStart(8, '0')}${
            v.errorDetail ? ` (${v.errorDetail})` : ''
          }`;
      return `dispatch attempt ${v.attempt}${v.partTotal > 1 ? `, part ${v.partNumber}/${v.partTotal}` : ''}: ${what}`;
    }
    case 'receipt':
      return `receipt from ${ev.value.connectorId}${
        ev.value.parsed ? `: ${messageStateToJSON(ev.value.messageState).replace(/^MESSAGE_STATE_/, '')}` : ''
      }${ev.value.parseError ? ` (unparsed: ${ev.value.parseError})` : ''}`;
    case 'delivery':
      return `status ${statusName(ev.value.status)}${ev.value.final ? ' (final)' : ''}${
        ev.value.error ? `: ${ev.value.error.message}` : ''
      }`;
    case 'rated': {
      const v = ev.value;
      return `rated: ${v.segments} segment(s)${v.sell ? `, sell ${formatMoney(v.sell)}` : ''}${
        v.buy ? `, buy ${formatMoney(v.buy)}` : ''
      }`;
    }
    case 'held':
      return `held until ${ev.value.holdUntil?.toISOString() ?? '?'} (${
        ev.value.holdReason === HoldReason.HOLD_REASON_QUIET_HOURS
          ? 'quiet hours'
          : 'scheduled by the customer'
      })`;
    case 'released':
      return `released by the scheduler at ${ev.value.releasedAt?.toISOString() ?? '?'}`;
    case 'rerouted':
      return `re-routed (attempt ${ev.value.attempt}, next candidate ${
        ev.value.routed?.candidates[ev.value.fromCandidate]?.connectorId ?? '?'
      }): ${ev.value.reason}`;
    case 'inbound':
      return `inbound message (MO) from ${ev.value.source?.address ?? ''} to ${ev.value.destination?.address ?? ''}, ${ev.value.parts} part(s)`;
  }
}

/** Rated events carry prices: a role without money permission sees them without amounts. */
function stripMoney(detail: unknown): unknown {
  if (detail === null || typeof detail !== 'object') return detail;
  const d = { ...(detail as Record<string, unknown>) };
  for (const k of ['sell', 'buy', 'buyInSellCurrency', 'margin', 'fxRate', 'expectedCost']) delete d[k];
  return d;
}

export interface TimelineItem {
  topic: string;
  time: string | null;
  kind: string;
  summary: string;
  detail: unknown;
}

export interface MessageView {
  summary: unknown;
  timeline: TimelineItem[];
}

export function messageView(res: GetMessageResponse, opts: { money: boolean }): MessageView {
  return {
    summary: res.message ? withoutTexts(MessageSummary.toJSON(res.message)) : null,
    timeline: res.timeline.map((e) => {
      const json = TimelineEvent.toJSON(e) as Record<string, unknown>;
      const kind = e.event?.$case ?? 'unknown';
      let detail = withoutTexts(json[kind] ?? null);
      let summary = describeEvent(e);
      if (!opts.money && kind === 'rated') {
        detail = stripMoney(detail);
        summary = summary.replace(/, (sell|buy) [A-Z]{3} [-\d.]+/g, '');
      }
      if (!opts.money && kind === 'routed' && detail && typeof detail === 'object') {
        const d = detail as { candidates?: unknown[] };
        if (Array.isArray(d.candidates)) d.candidates = d.candidates.map(stripMoney);
      }
      return { topic: e.topic, time: e.time ? e.time.toISOString() : null, kind, summary, detail };
    }),
  };
}
