import { describe, expect, it } from 'vitest';
import { DEFAULT_KEYWORDS, firstWord, matchKeyword, replyText, type KeywordSet } from './match.js';

const set = (o: Partial<KeywordSet>): KeywordSet => ({
  ...DEFAULT_KEYWORDS,
  stop: [],
  stopAll: [],
  start: [],
  help: [],
  helpReply: '',
  language: '',
  ...o,
});

describe('firstWord', () => {
  it('trims, takes the first word, drops trailing punctuation, ignores case', () => {
    expect(firstWord('  stop  ')).toBe('STOP');
    expect(firstWord('Stop! please')).toBe('STOP');
    expect(firstWord('stop.\nthanks')).toBe('STOP');
    expect(firstWord('')).toBe('');
    expect(firstWord('ＳＴＯＰ')).toBe('STOP');
  });
});

describe('matchKeyword with the defaults', () => {
  it('knows the STOP family, STOPALL, START/UNSTOP and HELP', () => {
    for (const w of ['STOP', 'unsubscribe', 'Cancel', 'end', 'QUIT'])
      expect(matchKeyword(w, [], 'a', 'GB')?.action).toBe('stop');
    expect(matchKeyword('stopall', [], 'a', 'GB')?.action).toBe('stop_all');
    expect(matchKeyword('start', [], 'a', 'GB')?.action).toBe('start');
    expect(matchKeyword('Unstop', [], 'a', 'GB')?.action).toBe('start');
    const help = matchKeyword('help me', [], 'a', 'GB');
    expect(help?.action).toBe('help');
    expect(replyText(help!)).toMatch(/Reply STOP/);
  });

  it('ignores a keyword that is not the first word, and other text', () => {
    expect(matchKeyword('please stop', [], 'a', 'GB')).toBeUndefined();
    expect(matchKeyword('stopping by later', [], 'a', 'GB')).toBeUndefined();
    expect(matchKeyword('Thanks!', [], 'a', 'GB')).toBeUndefined();
  });

  it('sends no STOP/START confirmation unless configured', () => {
    expect(replyText(matchKeyword('stop', [], 'a', 'GB')!)).toBe('');
  });
});

describe('matchKeyword with configured sets', () => {
  const sets: KeywordSet[] = [
    set({ accountId: '', country: 'CA', language: 'en', stopReply: 'You are unsubscribed.' }),
    set({ accountId: '', country: 'CA', language: 'fr', stop: ['ARRET', 'ARRÊT'], stopReply: 'Désabonné.' }),
    set({
      accountId: 'acme',
      country: '',
      language: 'de',
      stop: ['STOPP'],
      help: ['HILFE'],
      helpReply: 'Hilfe',
    }),
  ];

  it('matches every language of the most specific level, replying in the matched one', () => {
    const fr = matchKeyword('arrêt', sets, 'other', 'CA')!;
    expect(fr.action).toBe('stop');
    expect(replyText(fr)).toBe('Désabonné.');
    // The English set has an empty list: the built-in STOP family applies.
    expect(replyText(matchKeyword('STOP', sets, 'other', 'CA')!)).toBe('You are unsubscribed.');
  });

  it("uses the account's own sets over the global ones, the defaults where no set applies", () => {
    expect(matchKeyword('stopp', sets, 'acme', 'CA')?.action).toBe('stop');
    expect(matchKeyword('arret', sets, 'acme', 'CA')).toBeUndefined();
    expect(replyText(matchKeyword('hilfe', sets, 'acme', 'DE')!)).toBe('Hilfe');
    // A set without its own HELP text (the French one) answers with the default.
    expect(replyText(matchKeyword('help', sets, 'other', 'CA')!)).toMatch(/^Reply STOP/);
    expect(matchKeyword('arret', sets, 'other', 'GB')).toBeUndefined();
    expect(matchKeyword('stop', sets, 'other', 'GB')?.set).toBe(DEFAULT_KEYWORDS);
  });

  it('gives STOPALL precedence over STOP, STOP over START', () => {
    const odd = [set({ stop: ['GO'], start: ['GO'] })];
    expect(matchKeyword('go', odd, 'x', '')?.action).toBe('stop');
  });
});
