export { BalanceCache } from './balances.js';
export { replicaShare } from './shares.js';
export { Throttles, TokenBucket } from './throttle.js';
