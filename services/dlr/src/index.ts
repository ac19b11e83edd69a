// Public surface of dlr: the pure domain and the service core (main.ts wires it).
export * from './domain/types.js';
export * from './domain/message-id.js';
export * from './domain/receipt-text.js';
export * from './domain/status.js';
export * from './domain/timeline.js';
export * from './domain/expiry.js';
export * from './domain/correlator.js';
export * from './domain/stats.js';
export { createDlr, type Dlr, type DlrDeps } from './dlr.js';
export { dlrEnv, optionsFromEnv, type DlrEnv, type DlrOptions } from './config.js';
export type { DlrTopics } from './topics.js';
