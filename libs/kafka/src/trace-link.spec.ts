import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parentFor, rememberTrace } from './trace-link.js';

const spanContext = (traceId: string) => ({
  traceId,
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
});

describe('trace-link', () => {
  it('a record about a remembered message continues its trace; others start none', () => {
    const ctx = trace.setSpanContext(ROOT_CONTEXT, spanContext('4bf92f3577b34da6a3ce929d0e0e4736'));
    rememberTrace('msg-1', ctx);
    expect(trace.getSpanContext(parentFor('msg-1'))?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(trace.getSpanContext(parentFor('msg-2'))).toBeUndefined();
    expect(trace.getSpanContext(parentFor(undefined))).toBeUndefined();
  });

  it('the latest remembered trace of a message wins', () => {
    rememberTrace(
      'msg-3',
      trace.setSpanContext(ROOT_CONTEXT, spanContext('11111111111111111111111111111111')),
    );
    rememberTrace(
      'msg-3',
      trace.setSpanContext(ROOT_CONTEXT, spanContext('22222222222222222222222222222222')),
    );
    expect(trace.getSpanContext(parentFor('msg-3'))?.traceId).toBe('22222222222222222222222222222222');
  });
});
