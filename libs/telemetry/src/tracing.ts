import {
  context as otelContext,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { enableDefaultMetrics } from './metrics.js';

/** W3C trace-context (traceparent/tracestate) plus W3C baggage. Used directly, so it works before start. */
const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

export interface TelemetryHandle {
  /** Flushes pending spans and stops the SDK. Idempotent. */
  shutdown(): Promise<void>;
}

export interface StartTelemetryOptions {
  serviceName: string;
  /** Base OTLP/HTTP endpoint, e.g. http://otel-collector:4318 ("/v1/traces" is appended). */
  otlpEndpoint?: string;
  /** Extra processors, e.g. SimpleSpanProcessor(new InMemorySpanExporter()) in tests. */
  spanProcessors?: SpanProcessor[];
}

let handle: TelemetryHandle | undefined;

/** OTLP base endpoint → traces URL, as the OTLP exporter spec does for OTEL_EXPORTER_OTLP_ENDPOINT. */
export function tracesUrl(endpoint: string): string {
  return new URL('v1/traces', endpoint.endsWith('/') ? endpoint : endpoint + '/').toString();
}

/**
 * Starts the OpenTelemetry NodeSDK: AsyncLocalStorage context, W3C propagators, parent-based always-on
 * sampling, an OTLP/HTTP exporter behind a batch processor when `otlpEndpoint` is given, and
 * `spanProcessors`. Nothing is read from the environment here (no resource detectors, no env exporters;
 * logs and metrics exporters are off — metrics go through prom-client). Without any processor no tracer
 * provider is registered: spans are non-recording but incoming trace context is still passed on.
 * Call before creating clients. A second call returns the first handle and ignores its options.
 */
export function startTelemetry(opts: StartTelemetryOptions): TelemetryHandle {
  if (handle) return handle;
  const spanProcessors: SpanProcessor[] = [];
  if (opts.otlpEndpoint) {
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(opts.otlpEndpoint) })));
  }
  spanProcessors.push(...(opts.spanProcessors ?? []));

  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.serviceName }),
    autoDetectResources: false,
    textMapPropagator: propagator,
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors,
    instrumentations: [],
    logRecordProcessors: [],
    metricReaders: [],
  });
  sdk.start();
  enableDefaultMetrics();

  let stopped: Promise<void> | undefined;
  handle = {
    shutdown() {
      stopped ??= sdk.shutdown();
      return stopped;
    },
  };
  return handle;
}

type InHeaders = Record<string, string | Buffer | (string | Buffer)[] | undefined>;

const setter: TextMapSetter<Record<string, string | Buffer | undefined>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

function headerText(value: string | Buffer | (string | Buffer)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    const first = value[0];
    return first === undefined ? undefined : headerText(first);
  }
  return typeof value === 'string' ? value : value.toString('utf8');
}

const getter: TextMapGetter<InHeaders> = {
  keys(carrier) {
    return Object.keys(carrier);
  },
  get(carrier, key) {
    // Kafka header names are case-sensitive; W3C names are lower-case, accept any case.
    const direct = carrier[key];
    if (direct !== undefined) return headerText(direct);
    // A missing header (baggage, tracestate) is looked for on every record: no array per lookup.
    for (const k in carrier) if (k.toLowerCase() === key) return headerText(carrier[k]);
    return undefined;
  },
};

/** Writes traceparent/tracestate (and baggage) of `ctx` (default: the active context) into Kafka-style headers. */
export function injectTraceHeaders(
  headers: Record<string, string | Buffer | undefined>,
  ctx?: Context,
): void {
  propagator.inject(ctx ?? otelContext.active(), headers, setter);
}

/** Reads traceparent/tracestate from Kafka-style headers (Buffers decoded as UTF-8) into a new Context. */
export function extractTraceContext(headers: InHeaders | undefined): Context {
  const base = otelContext.active();
  if (!headers) return base;
  return propagator.extract(base, headers, getter);
}

const TRACER_NAME = '@smshub/telemetry';

export interface WithSpanOptions {
  /** Parent context, e.g. extractTraceContext(message.headers). Default: the active context. */
  parent?: Context;
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Runs `fn` inside a new span (active while fn runs, unless it records nothing and has no trace: then fn
 * runs in the active context). A throw or rejection records the exception, sets status ERROR and is
 * re-thrown; the span always ends.
 */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T> | T,
  opts: WithSpanOptions = {},
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  const active = otelContext.active();
  const parent = opts.parent ?? active;
  const span = tracer.startSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes ?? {} },
    parent,
  );
  try {
    // A span that records nothing and carries no trace (no span processor, no trace to continue) has
    // nothing for the readers of the active context (producers, log lines: they look for a valid span
    // context): fn runs in the active context as it is. Entering one (AsyncLocalStorage.run) would turn on
    // Node's async hooks for every later promise of the process (entry O1 in docs/performance.md).
    if (parent === active && !span.isRecording() && !isSpanContextValid(span.spanContext()))
      return await fn(span);
    return await otelContext.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    throw err;
  } finally {
    span.end();
  }
}

/** The trace id of the active span (or of `ctx`), for log lines; undefined outside a trace. */
export function currentTraceId(ctx?: Context): string | undefined {
  const sc = trace.getSpanContext(ctx ?? otelContext.active());
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

export { propagation, SpanKind, SpanStatusCode };
