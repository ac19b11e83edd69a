// Re-routing of fast failures (issue 21 item 2): whether a part's final failure is withheld from the
// customer and the message sent once more through the next candidate. Pure.
//
// Rules (the terms come from routing, per message, in SmsRouted.reroute):
// - only a failure reported by a supplier's receipt (not egress's own submit failures: egress already
//   failed over across the candidates for those), of a message of one egress part (a re-sent part of a
//   long message could not be reassembled with parts sent elsewhere);
// - only UNDELIVERABLE (UNDELIV) and REJECTED (REJECTD) can ever qualify, and only when the terms list
//   them (with any err, or with that err) and do not except the err: UNKNOWN, ACCEPTED, EXPIRED (after
//   acceptance), DELETED and ENROUTE may mean delivered and are never re-routed;
// - only within the window from the supplier's acceptance to the receipt's arrival;
// - only when a candidate after the failing connector exists; at most one extra attempt per message.

/** What dlr keeps of SmsRouted.reroute and the candidate order (MessageState.reroute). */
export interface RerouteState {
  failures: string[];
  exceptErrors: string[];
  windowMs: number;
  ruleId: string;
  /** Connector ids in SmsRouted.candidates order. */
  candidates: string[];
  /** Set once the extra attempt was ordered (never a second one). */
  done?: RerouteDone;
}

export interface RerouteDone {
  /** Connector whose receipt failed. */
  from: string;
  /** Index in `candidates` egress sends from. */
  fromCandidate: number;
  time: number;
  reason: string;
  /** The withheld failure (DlrStatus and err): the part's outcome if the extra attempt never starts. */
  status?: string;
  err?: string;
}

export interface FailedPart {
  /** DlrStatus of the failure. */
  status: string;
  /** 3-digit err of the receipt. */
  err: string;
  connectorId: string | undefined;
  /** When the supplier accepted the part; undefined when unknown. */
  acceptedAt: number | undefined;
  /** When the failing receipt arrived. */
  time: number;
  partsTotal: number;
}

/** Receipt stat texts that may be listed, and the status each one stands for. */
export const REROUTABLE: Readonly<Record<string, string>> = { UNDELIV: 'UNDELIVERABLE', REJECTD: 'REJECTED' };

const STAT_OF: Readonly<Record<string, string>> = { UNDELIVERABLE: 'UNDELIV', REJECTED: 'REJECTD' };

/** Whether `terms` list this status/err as a failure worth another attempt. */
export function listedFailure(
  terms: Pick<RerouteState, 'failures' | 'exceptErrors'>,
  status: string,
  err: string,
): boolean {
  const stat = STAT_OF[status];
  if (stat === undefined) return false; // UNKNOWN, EXPIRED, DELETED, DELIVERED, intermediates: never
  if (terms.exceptErrors.includes(err)) return false;
  return terms.failures.some((f) => f === stat || f === `${stat}:${err}`);
}

/** The re-route to order for this failure, or undefined when the failure is final for the customer. */
export function decideReroute(terms: RerouteState | undefined, f: FailedPart): RerouteDone | undefined {
  if (terms === undefined || terms.done !== undefined) return undefined;
  if (f.partsTotal !== 1 || f.connectorId === undefined || f.acceptedAt === undefined) return undefined;
  if (!listedFailure(terms, f.status, f.err)) return undefined;
  const elapsed = f.time - f.acceptedAt;
  if (elapsed < 0 || elapsed > terms.windowMs) return undefined;
  const at = terms.candidates.indexOf(f.connectorId);
  if (at < 0 || at + 1 >= terms.candidates.length) return undefined;
  return {
    from: f.connectorId,
    fromCandidate: at + 1,
    time: f.time,
    status: f.status,
    err: f.err,
    reason: `${STAT_OF[f.status]} err ${f.err} from ${f.connectorId} ${elapsed} ms after acceptance (rule ${terms.ruleId})`,
  };
}
