export { createStats, type Stats, type StatsDeps } from './stats.js';
export { optionsFromEnv, statsEnv, type StatsOptions } from './config.js';
export { StatsQueries, type Query } from './query.js';
export { RollupStore, type BatchRecord, type StatsRecord } from './store.js';
