// Public surface of the DLR domain (pure logic; the service wiring lives in main.ts later).
export * from './domain/types.js';
export * from './domain/message-id.js';
export * from './domain/receipt-text.js';
export * from './domain/status.js';
export * from './domain/timeline.js';
export * from './domain/expiry.js';
export * from './domain/correlator.js';
export * from './domain/stats.js';
