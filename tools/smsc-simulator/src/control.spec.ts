import { describe, expect, it } from 'vitest';
import { moParts, parseBehaviourRequest, parseMoRequest } from './control.js';

describe('POST /mo', () => {
  it('refuses a body without a hub number or text, naming the field', () => {
    expect(parseMoRequest({ from: '+447700900123', text: 'hi' })).toMatch(/"to"/);
    expect(parseMoRequest({ from: '+447700900123', to: '447700900555', text: '' })).toMatch(/"text"/);
    expect(parseMoRequest(null)).toMatch(/JSON object/);
  });

  it('sends a short text as one part and a long one as UDH parts with one reference', () => {
    const one = moParts({ from: 'x', to: '1', text: 'STOP' });
    expect(one.parts).toHaveLength(1);
    expect(one.parts[0]!.udhi).toBe(false);
    const long = moParts({ from: 'x', to: '1', text: 'a'.repeat(400) });
    expect(long.parts.length).toBe(3);
    const refs = new Set(long.parts.map((p) => p.shortMessage[3]));
    expect(refs.size).toBe(1);
    expect(long.parts.map((p) => [p.shortMessage[4], p.shortMessage[5]])).toEqual([
      [3, 1],
      [3, 2],
      [3, 3],
    ]);
  });

  it('splits into the asked number of parts', () => {
    const p = moParts({ from: 'x', to: '1', text: 'abcdefghi', parts: 3 });
    expect(p.parts.map((x) => x.shortMessage.subarray(6).toString())).toEqual(['abc', 'def', 'ghi']);
  });
});

describe('POST /behaviour body', () => {
  it('passes a receipts patch through and reads error rates by status name', () => {
    expect(parseBehaviourRequest({ simulator: 'a', receipts: { mix: { UNDELIV: 1 } } })).toEqual({
      simulator: 'a',
      patch: { receipts: { mix: { UNDELIV: 1 } } },
    });
    expect(parseBehaviourRequest({ errorRates: { ESME_RSYSERR: 0.5 } })).toEqual({
      patch: { errorRates: { 8: 0.5 } },
    });
  });

  it('refuses identity settings, an empty patch and a non-object', () => {
    expect(parseBehaviourRequest({ password: 'x', tls: {} })).toMatch(/"password", "tls" cannot change/);
    expect(parseBehaviourRequest({ simulator: 'a' })).toMatch(/nothing to change/);
    expect(parseBehaviourRequest([])).toMatch(/JSON object/);
    expect(parseBehaviourRequest({ errorRates: { NOPE: 1 } })).toMatch(/unknown command_status/);
  });
});
