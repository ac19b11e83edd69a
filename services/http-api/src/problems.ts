/**
 * RFC 9457 problem details. Each error a customer can meet has a stable `type` (a URN, so it names the
 * error without promising a web page at a domain) and an HTTP status; `title` is fixed per type, `detail`
 * says what was wrong with this request. Clients switch on `type`, never on `title` or `detail`.
 *
 * `firewall-rejected` is never an HTTP answer: the firewall runs after the accept (routing), so a rejected
 * message shows it in `GET /v1/messages/{id}` (`error.type`) and in its receipt.
 */
export const PROBLEM_TYPES = {
  'validation-failed': { status: 400, title: 'The request does not match the schema' },
  'invalid-number': { status: 400, title: 'The destination is not a valid E.164 number' },
  'invalid-sender': { status: 400, title: 'The sender is neither alphanumeric (up to 11) nor a number' },
  'text-too-long': { status: 400, title: 'The text needs more than 255 SMS segments' },
  unauthenticated: { status: 401, title: 'A valid API key is required' },
  'insufficient-balance': { status: 402, title: 'The account has no credit left' },
  forbidden: { status: 403, title: 'This API key may not do this from here' },
  'not-found': { status: 404, title: 'No such resource' },
  'idempotency-in-progress': { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The body must be application/json' },
  'idempotency-key-reused': {
    status: 422,
    title: 'This Idempotency-Key was used with a different request',
  },
  'opted-out': { status: 422, title: 'The recipient opted out of messages from this account' },
  'rate-limited': { status: 429, title: "The account's message rate limit was reached" },
  unavailable: { status: 503, title: 'The message was not accepted; retry' },
  'firewall-rejected': { status: 200, title: 'The SMS firewall rejected the message' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const PROBLEM_BASE = 'urn:smshub:problem:';

/** The body of an application/problem+json answer. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Extension members (RFC 9457 §3.2), e.g. `errors` of a validation failure. */
  [extension: string]: unknown;
}

/** A problem to answer with; `headers` go with it (Retry-After, WWW-Authenticate). */
export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemType,
    detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? PROBLEM_TYPES[kind].title);
  }

  get status(): number {
    return PROBLEM_TYPES[this.kind].status;
  }

  toProblem(instance?: string): Problem {
    return problem(this.kind, this.message, { ...this.extensions, ...(instance ? { instance } : {}) });
  }
}

export function problem(
  kind: ProblemType,
  detail?: string,
  extensions: Record<string, unknown> = {},
): Problem {
  const t = PROBLEM_TYPES[kind];
  return {
    type: PROBLEM_BASE + kind,
    title: t.title,
    status: t.status,
    ...(detail !== undefined ? { detail } : {}),
    ...extensions,
  };
}
