// The sell-rate cache moved to libs/quota (shared with services/http-api, which quotes the price at accept).
export { SellRateCache, SellRateIndex, type PricedQuery, type SellRateRow } from '@smshub/quota';
