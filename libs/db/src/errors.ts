/** A migration could not be applied or the recorded history does not match the files. */
export class MigrationError extends Error {
  /** Editing files or the schema is needed; re-running the same migrator does not help. */
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}
