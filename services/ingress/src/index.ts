export {
  createIngress,
  DEFAULT_OPTIONS,
  type Ingress,
  type IngressDeps,
  type IngressOptions,
} from './ingress.js';
export { ingressEnv, type IngressEnv } from './config.js';
export { AccountStore, accountFromRow, ipAllowed, normaliseIp, type Account } from './accounts.js';
export { BindGuard, DEFAULT_BIND_GUARD, type BindGuardOptions } from './bind-guard.js';
export { BalanceCache, TokenBucket, Throttles } from '@smshub/quota';
export { checkSubmit, buildSubmitted, dataCodingAccepted, ConcatGroups } from './submit.js';
export { buildReceipt, wantsReceipt, receiptStat, messageStateOf, type PendingReceipt } from './receipts.js';
