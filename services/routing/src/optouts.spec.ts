import { describe, expect, it } from 'vitest';
import { SmsSubmitted, SubmitChannel } from '@smshub/contracts';
import { addressDigits, optedOut, OptOutList } from './optouts.js';

const ACC = 'acc';

function mt(source: string, channel = SubmitChannel.SUBMIT_CHANNEL_SMPP): SmsSubmitted {
  return SmsSubmitted.fromPartial({ accountId: ACC, source: { address: source }, channel });
}

describe('OptOutList', () => {
  it('blocks an account-wide opt-out for every sender, a per-number one only for its sender', () => {
    const l = new OptOutList();
    l.add(ACC, '447700900111', '');
    l.add(ACC, '447700900222', '447700900500');
    expect(l.blocks(ACC, '447700900111', 'ACME')).toBe(true);
    expect(l.blocks(ACC, '447700900222', '447700900500')).toBe(true);
    expect(l.blocks(ACC, '447700900222', 'ACME')).toBe(false);
    expect(l.blocks('other', '447700900111', 'ACME')).toBe(false);
    expect(l.size).toBe(2);
  });

  it('counts adds and removes once each, and replaces an account', () => {
    const l = new OptOutList();
    l.add(ACC, '447700900111', '');
    l.add(ACC, '447700900111', '');
    expect(l.size).toBe(1);
    l.remove(ACC, '447700900111', '');
    l.remove(ACC, '447700900111', '');
    expect(l.size).toBe(0);
    l.add(ACC, '1', '');
    const other = new OptOutList();
    other.add(ACC, '447700900333', '');
    other.add(ACC, '447700900444', '447700900500');
    other.add(ACC, '447700900444', '447700900501');
    l.replaceAccount(ACC, other.entries(ACC));
    expect(l.size).toBe(3);
    expect(l.blocks(ACC, '1', '')).toBe(false);
    expect(l.blocks(ACC, '447700900444', '447700900501')).toBe(true);
    l.remove(ACC, '447700900444', '447700900500');
    expect(l.blocks(ACC, '447700900444', '447700900500')).toBe(false);
    expect(l.blocks(ACC, '447700900444', '447700900501')).toBe(true);
    expect(l.size).toBe(2);
  });
});

describe('optedOut', () => {
  const l = new OptOutList();
  l.add(ACC, '447700900222', '447700900500');

  it('matches the engine-normalised destination and the sender digits', () => {
    expect(optedOut(l, mt('+44 7700 900500'), '+447700900222')).toBe(true);
    expect(optedOut(l, mt('00447700900500'), '+447700900222')).toBe(true);
    expect(optedOut(l, mt('447700900501'), '+447700900222')).toBe(false);
  });

  it("never blocks the hub's keyword replies", () => {
    expect(optedOut(l, mt('447700900500', SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY), '+447700900222')).toBe(
      false,
    );
  });

  it('keeps an alphanumeric sender as is', () => {
    expect(addressDigits('ACME')).toBe('ACME');
  });
});

describe('OptOutList.set', () => {
  it("replaces a subscriber's scopes with what the table holds", () => {
    const l = new OptOutList();
    l.add(ACC, '447700900222', '447700900500');
    l.set(ACC, '447700900222', ['', '447700900501']);
    expect(l.blocks(ACC, '447700900222', 'ACME')).toBe(true);
    expect(l.size).toBe(2);
    l.set(ACC, '447700900222', []);
    expect(l.blocks(ACC, '447700900222', '447700900501')).toBe(false);
    expect(l.size).toBe(0);
  });
});
