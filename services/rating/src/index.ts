// Public surface of the rating domain (pure logic; the service wiring lives in main.ts later).
export * from './domain/types.js';
export * from './domain/money.js';
export * from './domain/fx.js';
export * from './domain/rates.js';
export * from './domain/pricing.js';
export * from './domain/idempotency.js';
export * from './domain/balance.js';
export * from './domain/settlement.js';
