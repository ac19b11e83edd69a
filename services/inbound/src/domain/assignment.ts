// Which account owns an inbound message: the hub number's assignments valid at the time the MO arrived.
// A short code shared by keyword goes to the assignment whose keywords include the MO's first word (letters
// and digits, upper case); otherwise to the assignment without keywords; otherwise nobody (the caller then
// uses the default account or drops the MO). Admin refuses overlapping assignments that could both claim
// an MO, so at most one matches; should the table hold two anyway (rows written by hand), the oldest wins.

/** One row of hub_numbers as the inbound stage sees it. */
export interface Assignment {
  id: string;
  accountId: string;
  /** Upper case. */
  keywords: readonly string[];
  validFrom: Date;
  validTo: Date | null;
}

export interface Resolved {
  accountId: string;
  assignmentId: string;
  /** The keyword that chose the account; '' when the number alone did. */
  keyword: string;
}

/** The hub number as stored in hub_numbers: digits without "+". */
export function numberKey(address: string): string {
  return address.trim().replace(/^\+/, '');
}

/** The first word of an MO's text, upper case, letters and digits only ('' when there is none). */
export function firstWord(text: string): string {
  const m = /^[\s"'(]*([\p{L}\p{N}]+)/u.exec(text);
  return m ? (m[1] as string).toUpperCase() : '';
}

export function resolveAssignment(
  assignments: readonly Assignment[],
  text: string,
  at: Date,
): Resolved | undefined {
  const t = at.getTime();
  const live = assignments
    .filter((a) => a.validFrom.getTime() <= t && (a.validTo === null || t < a.validTo.getTime()))
    .sort((a, b) => a.validFrom.getTime() - b.validFrom.getTime());
  const word = firstWord(text);
  const byKeyword = word ? live.find((a) => a.keywords.includes(word)) : undefined;
  if (byKeyword) return { accountId: byKeyword.accountId, assignmentId: byKeyword.id, keyword: word };
  const catchAll = live.find((a) => a.keywords.length === 0);
  return catchAll ? { accountId: catchAll.accountId, assignmentId: catchAll.id, keyword: '' } : undefined;
}
