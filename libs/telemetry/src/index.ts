export {
  startTelemetry,
  injectTraceHeaders,
  extractTraceContext,
  withSpan,
  currentTraceId,
  tracesUrl,
  SpanKind,
  SpanStatusCode,
  type TelemetryHandle,
  type StartTelemetryOptions,
  type WithSpanOptions,
} from './tracing.js';
export { metricsRegistry, counter, gauge, histogram, enableDefaultMetrics } from './metrics.js';
export type { Counter, Gauge, Histogram, Registry } from './metrics.js';
export type { Context, Span, Attributes } from '@opentelemetry/api';
