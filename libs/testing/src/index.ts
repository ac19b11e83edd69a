export { provisionInfra, dockerAvailable, type Infra, type ProvisionedInfra } from './infra.js';
export { uniqueName, waitFor, testKafkaBrokers, testDatabaseUrl, type WaitOptions } from './helpers.js';
export { createTestDatabase, type TestDatabase } from './database.js';
export {
  testKafkaAdmin,
  createTestTopics,
  createIsolatedTopics,
  ensureTestTopics,
  waitForLeaders,
} from './kafka.js';
export {
  topicEndOffsets,
  waitForGroupCommitted,
  type GroupCommittedOptions,
  type PartitionOffsets,
} from './offsets.js';
export { selfSignedCert } from './tls.js';
export { startPrivateKafka, type PrivateKafka } from './private-kafka.js';
export {
  startHub,
  entryArgs,
  freePort,
  releasePorts,
  repoRoot,
  HubProcess,
  HubPortTakenError,
  type Hub,
  type HubOptions,
  type HubPorts,
  type HubSecrets,
} from './hub.js';
export {
  countStatements,
  snapshot,
  costLines,
  profileTo,
  type CostCounter,
  type CostSnapshot,
} from './bench-cost.js';
export * as routingScenario from './routing-scenario.js';
