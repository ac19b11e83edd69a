// Public surface of the routing domain (the service's main.ts wires it to Kafka and Postgres).
export * from './domain/types.js';
export * from './domain/customer-error.js';
export * from './domain/digit-trie.js';
export * from './domain/prefix-table.js';
export * from './domain/normalise.js';
export * from './domain/number-lookup.js';
export * from './domain/money.js';
export * from './domain/time-window.js';
export * from './domain/patterns.js';
export * from './domain/rules.js';
export * from './domain/strategies.js';
export * from './domain/windows.js';
export * from './domain/firewall.js';
export * from './domain/engine.js';
