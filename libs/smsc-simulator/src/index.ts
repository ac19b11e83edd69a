export { createSimulator } from './simulator.js';
export {
  compilePlan,
  pickError,
  pickStat,
  sampleRange,
  wantsReceipt,
  TokenBucket,
  type Plan,
} from './behaviour.js';
export { DuplicateDetector, submitKey } from './duplicates.js';
export { createRng, randomSeed, type Rng } from './prng.js';
export { ERROR_CODES, formatIds, receiptFields, receiptText, type ReceiptJob } from './receipts.js';
export { Scheduler } from './scheduler.js';
export type {
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
