export { BalanceCache } from './balances.js';
export { replicaShare } from './shares.js';
export { Throttles, TokenBucket } from './throttle.js';
export {
  SellRateCache,
  SellRateIndex,
  type PricedQuery,
  type QuoteQuery,
  type SellPrice,
  type SellRateRow,
} from './sell-rates.js';
