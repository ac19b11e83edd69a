export {
  createLogger,
  REDACT_PATHS,
  NUMBER_FIELDS,
  REDACTED,
  type Logger,
  type CreateLoggerOptions,
} from './logger.js';
export { maskNumber } from './mask.js';
