import { context, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  counter,
  currentTraceId,
  extractTraceContext,
  gauge,
  histogram,
  injectTraceHeaders,
  metricsRegistry,
  SpanKind,
  SpanStatusCode,
  startTelemetry,
  tracesUrl,
  withSpan,
  type TelemetryHandle,
} from './index.js';

const exporter = new InMemorySpanExporter();
let telemetry: TelemetryHandle;

beforeAll(() => {
  telemetry = startTelemetry({
    serviceName: 'telemetry-spec',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
});
afterAll(async () => {
  await telemetry.shutdown();
});
beforeEach(() => exporter.reset());

describe('startTelemetry', () => {
  it('returns the same handle on a second call', () => {
    expect(startTelemetry({ serviceName: 'other' })).toBe(telemetry);
  });

  it('tags spans with the service name', async () => {
    await withSpan('op', () => undefined);
    expect(exporter.getFinishedSpans()[0]!.resource.attributes['service.name']).toBe('telemetry-spec');
  });
});

describe('trace headers', () => {
  it('round-trips through Kafka headers (as Buffers) and keeps the trace id', async () => {
    const headers: Record<string, string | Buffer | undefined> = {};
    const producerTrace = await withSpan(
      'produce',
      (span) => {
        injectTraceHeaders(headers);
        return span.spanContext();
      },
      { kind: SpanKind.PRODUCER },
    );
    expect(headers['traceparent']).toBe(`00-${producerTrace.traceId}-${producerTrace.spanId}-01`);

    // What a Kafka consumer sees: header values as Buffers.
    const received = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v), 'utf8')]),
    );
    const parent = extractTraceContext(received);
    expect(currentTraceId(parent)).toBe(producerTrace.traceId);

    await withSpan('consume', () => undefined, { parent, kind: SpanKind.CONSUMER });
    const consume = exporter.getFinishedSpans().find((s) => s.name === 'consume')!;
    expect(consume.spanContext().traceId).toBe(producerTrace.traceId);
    expect(consume.parentSpanContext?.spanId).toBe(producerTrace.spanId);
  });

  it('carries tracestate and accepts array-valued headers', () => {
    const parentCtx = trace.setSpanContext(context.active(), {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: undefined,
    });
    const headers: Record<string, string | Buffer | undefined> = {};
    injectTraceHeaders(headers, parentCtx);
    const ctx = extractTraceContext({
      traceparent: [Buffer.from(String(headers['traceparent']))],
      tracestate: 'vendor=x',
    });
    const sc = trace.getSpanContext(ctx)!;
    expect(sc.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(sc.spanId).toBe('b7ad6b7169203331');
    expect(sc.traceState?.get('vendor')).toBe('x');
  });

  it('finds a header written in another case (Kafka names are case-sensitive, W3C names lower-case)', () => {
    const ctx = extractTraceContext({
      TraceParent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
      other: 'x',
    });
    expect(currentTraceId(ctx)).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('yields no trace for missing or garbage headers', () => {
    expect(currentTraceId(extractTraceContext(undefined))).toBeUndefined();
    expect(currentTraceId(extractTraceContext({ traceparent: 'nonsense' }))).toBeUndefined();
  });
});

describe('withSpan', () => {
  it('makes the span active, returns the value and ends the span with status unset', async () => {
    let active: Span | undefined;
    const value = await withSpan(
      'work',
      async (span) => {
        active = trace.getActiveSpan();
        expect(active).toBe(span);
        return 42;
      },
      { attributes: { 'smshub.message_id': 'm1' } },
    );
    expect(value).toBe(42);
    const [span] = exporter.getFinishedSpans();
    expect(span!.name).toBe('work');
    expect(span!.ended).toBe(true);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(span!.attributes['smshub.message_id']).toBe('m1');
  });

  it('records the exception, sets status ERROR, ends the span and rethrows', async () => {
    const boom = new Error('route not found');
    await expect(
      withSpan('route', async () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    const [span] = exporter.getFinishedSpans();
    expect(span!.ended).toBe(true);
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'route not found' });
    expect(span!.events.map((e) => e.name)).toContain('exception');
    expect(span!.events[0]!.attributes?.['exception.message']).toBe('route not found');
  });

  it('handles synchronous throws of non-Error values', async () => {
    await expect(
      withSpan('sync', () => {
        throw 'plain string';
      }),
    ).rejects.toBe('plain string');
    expect(exporter.getFinishedSpans()[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('nests spans under the active one', async () => {
    await withSpan('outer', () => withSpan('inner', () => undefined));
    const spans = exporter.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'outer')!;
    const inner = spans.find((s) => s.name === 'inner')!;
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });
});

describe('metrics', () => {
  it('returns the same metric for the same name and exposes it', async () => {
    const a = counter('smshub_spec_events_total', 'events', ['outcome']);
    const b = counter('smshub_spec_events_total', 'events', ['outcome']);
    expect(a).toBe(b);
    a.inc({ outcome: 'ok' }, 3);
    gauge('smshub_spec_inflight', 'in flight').set(2);
    histogram('smshub_spec_latency_seconds', 'latency', [], [0.1, 1]).observe(0.5);
    const text = await metricsRegistry.metrics();
    expect(text).toContain('smshub_spec_events_total{outcome="ok"} 3');
    expect(text).toContain('smshub_spec_inflight 2');
    expect(text).toContain('smshub_spec_latency_seconds_bucket{le="1"} 1');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('refuses names without the smshub_ prefix and conflicting re-registrations', () => {
    expect(() => counter('events_total', 'x')).toThrow(/smshub_/);
    expect(() => counter('smshub_BadName', 'x')).toThrow(/snake_case/);
    counter('smshub_spec_conflict_total', 'x');
    expect(() => gauge('smshub_spec_conflict_total', 'x')).toThrow(/another type/);
    expect(() => counter('smshub_spec_conflict_total', 'x', ['topic'])).toThrow(/labels/);
  });
});

describe('tracesUrl', () => {
  it('appends /v1/traces to the base endpoint', () => {
    expect(tracesUrl('http://otel:4318')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('http://otel:4318/')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('https://gw/otlp')).toBe('https://gw/otlp/v1/traces');
  });
});
