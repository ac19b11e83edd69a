export { createPool, withTransaction, type CreatePoolOptions } from './pool.js';
export { PreparingClient, PREPARE_AFTER, starResult } from './prepared.js';
export {
  migrate,
  readMigrations,
  DEFAULT_MIGRATIONS_DIR,
  MIGRATION_FILE,
  type MigrateOptions,
  type MigrateResult,
  type MigrationFile,
} from './migrate.js';
export { MigrationError } from './errors.js';
export { StoreError, store } from './store-error.js';
export type { Pool, PoolClient } from 'pg';
export { GroupCommit, type GroupCommitOptions } from './group-commit.js';
export { packBytes, type PackedBytes } from './pack.js';
export { arrayLiteral, arrayLiteralOf, type ArrayElement } from './array-literal.js';
