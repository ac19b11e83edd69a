import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino } from 'pino';
import { maskNumber } from './mask.js';

export type Logger = pino.Logger;

export const REDACTED = '[redacted]';

/** Keys whose values are replaced by "[redacted]": secrets and message content. */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'text',
  '*.text',
  'shortMessage',
  '*.shortMessage',
  'short_message',
  '*.short_message',
  'messagePayload',
  '*.messagePayload',
  'message_payload',
  '*.message_payload',
];

/**
 * Keys holding phone numbers. Their values are masked with maskNumber unless debugNumbers is on. This is
 * a safety net; code should still call maskNumber when it puts a number somewhere else (e.g. in msg).
 */
export const NUMBER_FIELDS: readonly string[] = [
  'msisdn',
  'sourceAddr',
  'source_addr',
  'destAddr',
  'destinationAddr',
  'destination_addr',
];

function numberPaths(): string[] {
  return NUMBER_FIELDS.flatMap((f) => [f, `*.${f}`]);
}

function lastKey(path: string[] | string): string {
  return Array.isArray(path) ? String(path[path.length - 1]) : path.split('.').pop()!;
}

export interface CreateLoggerOptions {
  service: string;
  /** pino level name (trace, debug, info, warn, error, fatal, silent). Default info. */
  level?: string;
  /** LOG_DEBUG_NUMBERS: log phone numbers unmasked. Default false. */
  debugNumbers?: boolean;
  /** Where JSON lines go. Default stdout (synchronous). */
  destination?: pino.DestinationStream;
}

/**
 * pino JSON-lines logger: `service` on every line, ISO `time`, `level` as a name, errors under `err`,
 * `trace_id`/`span_id` while a span is active (e.g. inside withSpan of @smshub/telemetry).
 * Secrets and message text are redacted; phone-number fields are masked unless debugNumbers.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const numberKeys = new Set(opts.debugNumbers ? [] : NUMBER_FIELDS);
  const paths = [...REDACT_PATHS, ...(opts.debugNumbers ? [] : numberPaths())];
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    // Correlates log lines with traces: trace_id/span_id of the active span, when there is one.
    mixin() {
      const sc = trace.getActiveSpan()?.spanContext();
      return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: {
      paths,
      censor: (value: unknown, path: string[]) => {
        if (numberKeys.has(lastKey(path))) {
          return typeof value === 'string'
            ? maskNumber(value)
            : typeof value === 'number'
              ? maskNumber(String(value))
              : value;
        }
        return REDACTED;
      },
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
