export {
  parseSecretKey,
  sealSecret,
  openSecret,
  openSecretWithKeys,
  resealSecret,
  SecretBoxError,
} from './secret-box.js';
export {
  hashPassword,
  verifyPassword,
  hashParams,
  dummyHash,
  commonHashParams,
  PASSWORD_HASH_OPTIONS,
  type HashParams,
} from './password.js';
export { FairQueue, QueueFullError, type FairQueueOptions } from './fair-queue.js';
