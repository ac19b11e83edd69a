// Public surface of the rating service: the pure domain, the event mapping, the published record format
// and the service core (main.ts wires it with the defaults).
export * from './domain/types.js';
export * from './domain/money.js';
export * from './domain/fx.js';
export * from './domain/rates.js';
export * from './domain/pricing.js';
export * from './domain/idempotency.js';
export * from './domain/balance.js';
export * from './domain/settlement.js';
export { fromDelivery, fromDispatched, InvalidEventError, type Mapped, type RatingInput } from './events.js';
export { RECORD_REVISION, formatMccMnc, formatRate, money, ratedStatus, toBillingRated } from './record.js';
export { applyTopUp, toAccountBalance, type TopUpRequest, type TopUpResult } from './balance-publisher.js';
export {
  createRating,
  DEFAULT_OPTIONS,
  type Rating,
  type RatingDeps,
  type RatingOptions,
  type RatingTopics,
} from './rating.js';
export { ratingEnv } from './config.js';
