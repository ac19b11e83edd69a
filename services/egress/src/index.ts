export { createEgressCore, type EgressCore, type EgressCoreConfig, type EgressDeps } from './core.js';
export { ConnectorStore, ConnectorConfigError, type ConnectorInput } from './connector-store.js';
export { DispatchStore } from './dispatch-store.js';
export { ConnectorPool, ConnectorRuntime } from './connector-pool.js';
export { sealSecret, openSecret, parseSecretKey } from '@smshub/secrets';
export * from './domain/connector.js';
export { planSubmit, normaliseSource, normaliseDestination, chooseEncoding } from './domain/translate.js';
export { decide, isTransientStatus, type RetryPolicy, type AttemptResult } from './domain/failover.js';
export { TokenBucket, replicaShare } from './domain/token-bucket.js';
