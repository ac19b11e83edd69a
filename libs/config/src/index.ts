export { ConfigError } from './errors.js';
export { loadConfig, configOrExit, EX_CONFIG, type ConfigOrExitOptions } from './load.js';
export {
  kafkaEnv,
  databaseEnv,
  httpEnv,
  grpcServerEnv,
  envHost,
  logEnv,
  otelEnv,
  startupEnv,
  DEFAULTS,
  LOG_LEVELS,
  SASL_MECHANISMS,
  crossFieldChecks,
  type LogLevel,
  type SaslMechanism,
  type CrossFieldCheck,
} from './fragments.js';
export { envBoolean, envInt, envList, envUrl, envString } from './fields.js';
export { z } from 'zod';
