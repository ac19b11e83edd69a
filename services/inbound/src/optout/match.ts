// Which opt-out keyword an inbound message is, if any. Pure: no I/O.
//
// Matching: the text is trimmed, its first word taken (up to the first white space), trailing punctuation
// dropped ("Stop!" is STOP), compared without case (Unicode upper case after NFKC). "STOP sending me
// this" is a STOP; "Please stop" is not (the subscriber's first word decides, as carriers' keyword
// handling does; a sentence containing "stop" somewhere is the customer's to read).
//
// Keyword sets: the most specific level that has any set applies: the account and the subscriber's
// country, the account and any country, every account and the country, every account and any country,
// then the built-in defaults. Within that level the sets of every language are matched together (a
// Canadian subscriber may send STOP or ARRET), and replies come from the set whose keyword matched. An
// empty keyword list in a set means the built-in list for it (a set that only changes the HELP text keeps
// STOP working). When a word is in more than one list, STOPALL wins over STOP, STOP over START, START
// over HELP.

/** One keyword set (a row of optout_keyword_sets, or the built-in defaults). */
export interface KeywordSet {
  accountId: string;
  country: string;
  language: string;
  stop: readonly string[];
  stopAll: readonly string[];
  start: readonly string[];
  help: readonly string[];
  helpReply: string;
  stopReply: string;
  startReply: string;
  /** Scope of a STOP: the hub number it was sent to, or the whole account. STOPALL is always the account. */
  scope: 'number' | 'account';
}

export const DEFAULT_KEYWORDS: Readonly<KeywordSet> = Object.freeze({
  accountId: '',
  country: '',
  language: 'en',
  stop: ['STOP', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'],
  stopAll: ['STOPALL'],
  start: ['START', 'UNSTOP'],
  help: ['HELP'],
  helpReply: 'Reply STOP to stop messages from this number, START to receive them again.',
  stopReply: '',
  startReply: '',
  scope: 'number' as const,
});

export type KeywordAction = 'stop' | 'stop_all' | 'start' | 'help';

export interface KeywordMatch {
  action: KeywordAction;
  /** The word as matched (upper case). */
  keyword: string;
  /** The set whose list held it (its replies and scope apply). */
  set: KeywordSet;
}

/** The normalised first word of `text` ("" when there is none). */
export function firstWord(text: string): string {
  const word = text.trim().split(/\s+/u)[0] ?? '';
  return word
    .normalize('NFKC')
    .replace(/[\p{P}\p{S}]+$/u, '')
    .toUpperCase();
}

export function normaliseKeyword(k: string): string {
  return k.trim().normalize('NFKC').toUpperCase();
}

/** The sets that apply to an MO of `accountId` from a subscriber of `country` ("" when unknown). */
export function applicableSets(
  sets: readonly KeywordSet[],
  accountId: string,
  country: string,
): readonly KeywordSet[] {
  const levels: [string, string][] = [
    [accountId, country],
    [accountId, ''],
    ['', country],
    ['', ''],
  ];
  for (const [a, c] of levels) {
    const found = sets.filter((s) => s.accountId === a && s.country === c);
    if (found.length > 0) return found;
  }
  return [DEFAULT_KEYWORDS];
}

const ORDER: [KeywordAction, (s: KeywordSet) => readonly string[]][] = [
  ['stop_all', (s) => (s.stopAll.length > 0 ? s.stopAll : DEFAULT_KEYWORDS.stopAll)],
  ['stop', (s) => (s.stop.length > 0 ? s.stop : DEFAULT_KEYWORDS.stop)],
  ['start', (s) => (s.start.length > 0 ? s.start : DEFAULT_KEYWORDS.start)],
  ['help', (s) => (s.help.length > 0 ? s.help : DEFAULT_KEYWORDS.help)],
];

/** The keyword `text` is, for an MO of `accountId` from a subscriber of `country`; undefined for none. */
export function matchKeyword(
  text: string,
  sets: readonly KeywordSet[],
  accountId: string,
  country: string,
): KeywordMatch | undefined {
  const word = firstWord(text);
  if (word === '') return undefined;
  const candidates = applicableSets(sets, accountId, country);
  for (const [action, list] of ORDER) {
    for (const set of candidates) {
      if (list(set).some((k) => normaliseKeyword(k) === word)) return { action, keyword: word, set };
    }
  }
  return undefined;
}

/** The reply the hub sends for a match ("" = none). */
export function replyText(m: KeywordMatch): string {
  switch (m.action) {
    case 'help':
      // A HELP always gets an answer (carriers require one): a set without its own text uses the default.
      return m.set.helpReply || DEFAULT_KEYWORDS.helpReply;
    case 'start':
      return m.set.startReply;
    default:
      return m.set.stopReply;
  }
}
