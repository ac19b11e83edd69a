import { describe, expect, it } from 'vitest';
import { idHex } from './otlp-receiver.js';
import { traceIdOf } from './topic-reader.js';

describe('trace ids as the tests read them', () => {
  it('traceIdOf takes the trace id of a W3C traceparent and refuses anything else', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-01')).toBeUndefined();
    expect(traceIdOf('garbage')).toBeUndefined();
  });

  it('idHex reads OTLP/JSON hex ids and base64 ids alike', () => {
    expect(idHex('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(idHex(Buffer.from('00f067aa0ba902b7', 'hex').toString('base64'))).toBe('00f067aa0ba902b7');
    expect(idHex(undefined)).toBe('');
  });
});
