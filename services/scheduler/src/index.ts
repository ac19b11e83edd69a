export {
  createScheduler,
  DEFAULT_SCHEDULER_OPTIONS,
  type Scheduler,
  type SchedulerDeps,
  type SchedulerOptions,
} from './scheduler.js';
export { optionsFromEnv, schedulerEnv } from './config.js';
export { heldRow, releasedRecord, replacedRecord, type HeldRow, type Replacement } from './hold.js';
export { HeldStore, type HeldState, type HeldStatus } from './store.js';
