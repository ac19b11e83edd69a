export { createLifecycle, fatal, type Lifecycle, type LifecycleOptions } from './lifecycle.js';
