/**
 * Raised when the environment does not satisfy a service's configuration schema.
 * `issues` holds one `VAR: reason` line per bad variable; all of them, not only the first.
 */
export class ConfigError extends Error {
  /** Restarting with the same environment gives the same result. */
  readonly retriable = false;
  readonly issues: string[];

  constructor(issues: string[], options?: { cause?: unknown }) {
    super(`invalid configuration: ${issues.join('; ')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
