import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentTraceId,
  extractTraceContext,
  injectTraceHeaders,
  startTelemetry,
  withSpan,
  type TelemetryHandle,
} from './index.js';

// A service without OTEL_EXPORTER_OTLP_ENDPOINT: the SDK runs with no span processor, so spans record
// nothing, but a trace that arrives on a record still leaves on what is produced while handling it, and
// log lines carry its id.
let telemetry: TelemetryHandle;
beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'no-exporter-spec' });
});
afterAll(async () => {
  await telemetry.shutdown();
});

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('withSpan without a span processor', () => {
  it('passes an incoming trace on across awaits: trace id for logs, traceparent for produced records', async () => {
    const parent = extractTraceContext({ traceparent: Buffer.from(`00-${TRACE_ID}-${SPAN_ID}-01`) });
    const seen = await withSpan(
      'record process',
      async (span) => {
        expect(span.isRecording()).toBe(false);
        await tick();
        const headers: Record<string, string | Buffer | undefined> = {};
        // nested, as a handler's own withSpan: still the incoming trace
        await withSpan('inner', async () => {
          await tick();
          injectTraceHeaders(headers);
        });
        return { traceId: currentTraceId(), headers };
      },
      { parent },
    );
    expect(seen.traceId).toBe(TRACE_ID);
    expect(seen.headers['traceparent']).toBe(`00-${TRACE_ID}-${SPAN_ID}-01`);
    expect(currentTraceId()).toBeUndefined();
  });

  it('leaves the active context as it is when there is no trace, and rethrows', async () => {
    const outer = context.active();
    const inside = await withSpan('untraced', async () => {
      await tick();
      return context.active();
    });
    expect(inside).toBe(outer);
    expect(trace.getSpan(inside)).toBeUndefined();
    const boom = new Error('boom');
    await expect(
      withSpan('untraced', () => {
        throw boom;
      }),
    ).rejects.toBe(boom);
  });

  it('runs a handler in a parent context that carries baggage only', async () => {
    const parent = extractTraceContext({ baggage: 'tenant=acme' });
    const headers: Record<string, string | Buffer | undefined> = {};
    await withSpan(
      'baggage',
      async () => {
        await tick();
        injectTraceHeaders(headers);
      },
      { parent },
    );
    expect(headers['baggage']).toBe('tenant=acme');
    expect(headers['traceparent']).toBeUndefined();
  });
});
