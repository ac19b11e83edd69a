export { createSimulator } from './simulator.js';
export {
  compilePlan,
  findToken,
  isHandset,
  selects,
  pickError,
  pickStat,
  sampleRange,
  wantsReceipt,
  TokenBucket,
  type Plan,
  type Selector,
} from './behaviour.js';
export { DuplicateDetector, submitKey } from './duplicates.js';
export { createRng, randomSeed, type Rng } from './prng.js';
export { ERROR_CODES, formatIds, receiptFields, receiptText, type ReceiptJob } from './receipts.js';
export { Scheduler } from './scheduler.js';
export type {
  FakeReceipts,
  Handsets,
  HandsetDelivery,
  LateDelivery,
  MessageSelector,
  Range,
  ReceiptBehaviour,
  ReceivedSubmit,
  SentReceipt,
  SimulatedStat,
  Simulator,
  SimulatorCounters,
  SimulatorEvents,
  SimulatorOptions,
} from './types.js';
