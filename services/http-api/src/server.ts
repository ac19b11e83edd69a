import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ProduceOutcomeUnknownError } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import type { TokenVerifier } from '@smshub/auth';
import type { BalanceCache } from '@smshub/quota';
import { TLS_SERVER_POLICY } from '@smshub/smpp/tls-policy';
import type { AccountDirectory } from './accounts.js';
import { authenticate, type Caller } from './auth.js';
import type { MessageInput } from './compose.js';
import { IdempotencyStore, requestHash, type KeyRef } from './idempotency.js';
import * as m from './metrics.js';
import { openApiDocument } from './openapi.js';
import { problem, ProblemError } from './problems.js';
import * as S from './schemas.js';
import type { Accepted, Submitter } from './submitter.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface ServerDeps {
  verifier: TokenVerifier;
  accounts: AccountDirectory;
  balances: BalanceCache;
  submitter: Submitter;
  idempotency: IdempotencyStore;
  logger: Logger;
  /** Messages may read status through dlr's MessageService; undefined = those routes answer 503. */
  messages?: MessageReader;
  options: {
    /** Largest request body in bytes. */
    bodyLimit: number;
    /** Fastify's trustProxy: false, true, a hop count or a list of proxy addresses/CIDRs. */
    trustProxy: boolean | number | string[];
    /** How long a retry waits for an in-progress request with the same Idempotency-Key before 409. */
    idempotencyWaitMs: number;
    https?: { cert: Buffer; key: Buffer };
  };
}

/** Reads a customer's own messages (dlr MessageService with the caller's key). */
export interface MessageReader {
  get(token: string, accountId: string, id: string): Promise<unknown | undefined>;
  list(
    token: string,
    accountId: string,
    q: { since?: string; status?: string; to?: string; page?: string; limit?: number },
  ): Promise<{ messages: unknown[]; next?: string }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

const PROBLEM_CT = 'application/problem+json';

/** Ajv for the per-item checks of a batch: the same MessageRequest schema as the single route. */
function itemValidator() {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: false, strict: false });
  addFormats(ajv);
  return ajv.compile<MessageInput>(S.MessageRequest);
}

function validationErrors(
  errors: ReadonlyArray<{ instancePath: string; message?: string; params?: Record<string, unknown> }>,
): Array<{ pointer: string; message: string }> {
  return errors.map((e) => {
    const extra = e.params?.additionalProperty ?? e.params?.missingProperty;
    const pointer = extra !== undefined ? `${e.instancePath}/${String(extra)}` : e.instancePath || '/';
    return { pointer, message: e.message ?? 'invalid' };
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { submitter, idempotency } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: deps.options.bodyLimit,
    trustProxy: deps.options.trustProxy as boolean | string[],
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    // HTTPS with the hub's one TLS policy (TLS 1.3; TLS 1.2 with ECDHE + AEAD only), as SMPP and gRPC.
    ...(deps.options.https ? { https: { ...TLS_SERVER_POLICY, ...deps.options.https } } : {}),
  }) as unknown as FastifyInstance;
  for (const s of S.ALL_SCHEMAS) app.addSchema(s);
  // JSON only: a text/plain body is 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  const validateItem = itemValidator();

  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unknown';
    m.requests.inc({ route, status: String(reply.statusCode) });
    m.latency.observe({ route }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler(
    (err: Error & { validation?: unknown; code?: string; statusCode?: number }, req, reply) => {
      if (err instanceof ProduceOutcomeUnknownError) {
        // Shutting down while Kafka had not answered: the message may be sent, so no error answer at all.
        reply.raw.destroy();
        return;
      }
      let p: ProblemError;
      if (err instanceof ProblemError) p = err;
      else if (err.validation)
        p = new ProblemError('validation-failed', err.message, {
          errors: validationErrors(err.validation as Parameters<typeof validationErrors>[0]),
        });
      else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        p = new ProblemError('payload-too-large', `at most ${deps.options.bodyLimit} bytes`);
      else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
        p = new ProblemError('unsupported-media-type', 'send Content-Type: application/json');
      else if (err.statusCode === 400) p = new ProblemError('validation-failed', err.message);
      else {
        deps.logger.error({ err, route: req.routeOptions.url }, 'request failed');
        p = new ProblemError(
          'unavailable',
          'the request could not be completed; retry',
          {},
          { 'retry-after': '1' },
        );
      }
      void reply
        .code(p.status)
        .headers(p.headers)
        .type(PROBLEM_CT)
        .send(JSON.stringify(p.toProblem(req.url)));
    },
  );

  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type(PROBLEM_CT)
      .send(JSON.stringify(problem('not-found', `no route ${req.method} ${req.url}`, { instance: req.url })));
  });

  const auth = async (req: FastifyRequest): Promise<void> => {
    req.caller = await authenticate(deps, req.headers.authorization, req.ip);
  };

  /**
   * Runs `work` under the request's Idempotency-Key, if it has one: `ids` are the message ids the work
   * will use (a taken-over key gives the ones stored with it).
   */
  async function idempotent<T>(
    req: FastifyRequest,
    reply: FastifyReply,
    count: number,
    work: (ids: string[]) => Promise<{ status: number; body: T }>,
  ): Promise<void> {
    const fresh = Array.from({ length: count }, () => submitter.newId());
    const raw = req.headers['idempotency-key'];
    if (raw === undefined) {
      const r = await work(fresh);
      void reply.code(r.status).send(r.body);
      return;
    }
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length === 0 || key.length > 255)
      throw new ProblemError('validation-failed', 'Idempotency-Key must be 1 to 255 characters');
    const ref: KeyRef = { accountId: req.caller!.account.id, key };
    const hash = requestHash(req.method, req.routeOptions.url ?? req.url, req.body);
    const deadline = Date.now() + deps.options.idempotencyWaitMs;
    for (;;) {
      const r = await idempotency.reserve(ref, hash, fresh);
      if (r.kind === 'replay') {
        void reply.code(r.statusCode).header('idempotent-replayed', 'true').send(r.response);
        return;
      }
      if (r.kind === 'mismatch')
        throw new ProblemError(
          'idempotency-key-reused',
          'this Idempotency-Key was first used with a different request; use a new key for a new request',
        );
      if (r.kind === 'in-progress') {
        if (Date.now() < deadline) {
          await sleep(100);
          continue;
        }
        throw new ProblemError(
          'idempotency-in-progress',
          'the first request with this key is still running',
          {},
          {
            'retry-after': '1',
          },
        );
      }
      let result: { status: number; body: T };
      try {
        result = await work(r.messageIds);
      } catch (err) {
        // A problem answer created nothing: the key is free for the retry. Anything else (an outcome
        // Kafka never told) keeps it pending: the retry after it goes stale reuses the same message ids.
        if (err instanceof ProblemError) await idempotency.release(ref).catch(() => undefined);
        throw err;
      }
      await idempotency.complete(ref, result.status, result.body);
      void reply.code(result.status).send(result.body);
      return;
    }
  }

  app.post<{ Body: MessageInput }>(
    '/v1/messages',
    {
      preHandler: auth,
      schema: {
        body: { $ref: 'MessageRequest#' },
        response: { 202: { $ref: 'MessageAccepted#' } },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      await idempotent<Accepted>(req, reply, 1, async ([id]) => {
        const admitted = submitter.admit({
          input: req.body,
          account: caller.account,
          messageId: id!,
          requestId: req.id,
          ip: req.ip,
          now: new Date(),
        });
        return { status: 202, body: await submitter.produce(admitted) };
      });
      return reply;
    },
  );

  app.post<{ Body: { messages: unknown[] } }>(
    '/v1/messages/batch',
    {
      preHandler: auth,
      schema: {
        // Items are checked one by one below (against MessageRequest): one bad item fails alone.
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['messages'],
          properties: {
            messages: { type: 'array', minItems: 1, maxItems: S.BATCH_MAX, items: { type: 'object' } },
          },
        },
        response: { 200: { $ref: 'BatchResult#' } },
      },
    },
    async (req, reply) => {
      const caller = req.caller!;
      const items = req.body.messages;
      await idempotent(req, reply, items.length, async (ids) => {
        const now = new Date();
        const results = await Promise.all(
          items.map(async (item, index) => {
            try {
              const input = structuredClone(item) as MessageInput;
              if (!validateItem(input))
                throw new ProblemError('validation-failed', 'the message does not match the schema', {
                  errors: validationErrors(validateItem.errors ?? []),
                });
              const admitted = submitter.admit({
                input,
                account: caller.account,
                messageId: ids[index]!,
                requestId: `${req.id}/${index}`,
                ip: req.ip,
                now,
              });
              return { index, message: await submitter.produce(admitted) };
            } catch (err) {
              if (!(err instanceof ProblemError)) throw err;
              return { index, problem: err.toProblem() };
            }
          }),
        );
        const accepted = results.filter((r) => 'message' in r).length;
        return { status: 200, body: { accepted, rejected: results.length - accepted, results } };
      });
      return reply;
    },
  );

  app.get('/v1/balance', { preHandler: auth, schema: { response: { 200: { $ref: 'Balance#' } } } }, (req) => {
    const account = req.caller!.account;
    const b = deps.balances.latest(account.id);
    const money = (x: { currencyCode: string; minorUnits: bigint; scale: number } | undefined) =>
      x === undefined ? undefined : decimal(x.minorUnits, x.scale);
    return {
      account_id: account.id,
      currency: b?.balance?.currencyCode || account.currency,
      ...(b?.balance ? { balance: money(b.balance) } : {}),
      ...(b?.creditLimit ? { credit_limit: money(b.creditLimit) } : {}),
      blocked: b?.blocked ?? false,
      ...(b?.updatedAt ? { updated_at: b.updatedAt.toISOString() } : {}),
    };
  });

  app.get<{ Params: { id: string } }>(
    '/v1/messages/:id',
    {
      preHandler: auth,
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 200: { $ref: 'MessageStatus#' } },
      },
    },
    async (req) => {
      if (!deps.messages) throw new ProblemError('unavailable', 'message status is not configured here');
      const c = req.caller!;
      const found = await deps.messages.get(c.token, c.account.id, req.params.id);
      if (found === undefined)
        throw new ProblemError('not-found', `no message ${req.params.id} in this account`);
      return found;
    },
  );

  app.get<{ Querystring: { since?: string; status?: string; to?: string; page?: string; limit?: number } }>(
    '/v1/messages',
    {
      preHandler: auth,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'string', format: 'date-time' },
            status: {
              type: 'string',
              enum: [
                'accepted',
                'enroute',
                'delivered',
                'undeliverable',
                'expired',
                'rejected',
                'deleted',
                'unknown',
              ],
            },
            to: { type: 'string', pattern: '^\\+?[0-9]{1,15}$' },
            page: { type: 'string', maxLength: 512 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        },
        response: { 200: { $ref: 'MessageList#' } },
      },
    },
    async (req) => {
      if (!deps.messages) throw new ProblemError('unavailable', 'message status is not configured here');
      const c = req.caller!;
      return deps.messages.list(c.token, c.account.id, req.query);
    },
  );

  const doc = openApiDocument();
  app.get('/v1/openapi.json', (_req, reply) => {
    void reply.type('application/json').send(doc);
  });

  return app;
}

/** minor units at `scale` -> decimal string ("-12.345000"). */
export function decimal(minor: bigint, scale: number): string {
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  const out = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${out}` : out;
}
