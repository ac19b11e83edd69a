import { PROBLEM_BASE, PROBLEM_TYPES } from './problems.js';
import * as S from './schemas.js';

/**
 * The OpenAPI 3.1 document of API v1, built from the schemas the server validates and serialises with
 * (schemas.ts): `$ref: 'X#'` (Fastify's shared-schema form) becomes `#/components/schemas/X`. Served at
 * /v1/openapi.json; test/openapi.test.ts compares it with docs/http-api/openapi.json (regenerate that with
 * `npm run -w @smshub/http-api openapi`).
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function toComponents(v: unknown): Json {
  if (Array.isArray(v)) return v.map(toComponents);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, val] of Object.entries(v)) {
      if (k === '$id') continue;
      if (k === '$ref' && typeof val === 'string' && val.endsWith('#'))
        out[k] = `#/components/schemas/${val.slice(0, -1)}`;
      else out[k] = toComponents(val);
    }
    return out;
  }
  return v as Json;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const problemResponse = (description: string, kinds: Array<keyof typeof PROBLEM_TYPES>) => ({
  description: `${description} Problem types: ${kinds.map((k) => `\`${PROBLEM_BASE}${k}\``).join(', ')}.`,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const AUTH_ERRORS = {
  '401': problemResponse('No API key, or one that is unknown, revoked or expired.', ['unauthenticated']),
  '403': problemResponse(
    'The key is not a customer key, the account is disabled, or the address is not allowed.',
    ['forbidden'],
  ),
};

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Any unique string (1-255 characters). Within 24 h, the same key with the same request returns the first answer and creates nothing; with a different request, 422.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

const submitErrors = {
  '400': problemResponse('The request or the message is not valid.', [
    'validation-failed',
    'invalid-number',
    'invalid-sender',
    'text-too-long',
  ]),
  ...AUTH_ERRORS,
  '402': problemResponse('The account is out of credit.', ['insufficient-balance']),
  '409': problemResponse('A request with this Idempotency-Key is still running; retry after Retry-After.', [
    'idempotency-in-progress',
  ]),
  '413': problemResponse('The body is too large.', ['payload-too-large']),
  '415': problemResponse('The body is not JSON.', ['unsupported-media-type']),
  '422': problemResponse(
    'The Idempotency-Key was used with a different request, or the recipient opted out of messages from this account (replied STOP; nothing was sent).',
    ['idempotency-key-reused', 'opted-out'],
  ),
  '429': problemResponse(
    "The account's rate limit (shared with its SMPP binds) was reached; retry after Retry-After.",
    ['rate-limited'],
  ),
  '503': problemResponse('Nothing was accepted (Kafka did not take it); retry.', ['unavailable']),
};

export function openApiDocument(): Record<string, Json> {
  const schemas: Record<string, Json> = {};
  for (const s of S.ALL_SCHEMAS) schemas[s.$id] = toComponents(s);
  return toComponents({
    openapi: '3.1.0',
    info: {
      title: 'smshub HTTP API',
      version: '1.0.0',
      description:
        'Send SMS and follow them over HTTPS. Authenticate with an API key (`hubctl api-keys create <account>`) as `Authorization: Bearer <key>`. Errors are RFC 9457 problem+json with a stable `type`. A message rejected by the SMS firewall is accepted first (202) and then shows `error.type` ' +
        `\`${PROBLEM_BASE}firewall-rejected\` in its status and receipt.`,
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    security: [{ apiKey: [] }],
    paths: {
      '/v1/messages': {
        post: {
          operationId: 'sendMessage',
          summary: 'Send one message (any length: one hub message, split into SMS parts on the way out)',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: json('MessageRequest') },
          responses: {
            '202': {
              description:
                'Accepted: Kafka holds the message. `segments` is the number of SMS parts; `price` the sell price ' +
                "of the whole message (the account's or its price plan's rate for the number's longest prefix, " +
                'else its country, × segments), null when no such rate applies; a rate for the network, known ' +
                'after routing, takes precedence in the rated price (GET /v1/messages/{id}).',
              content: json('MessageAccepted'),
            },
            ...submitErrors,
          },
        },
        get: {
          operationId: 'listMessages',
          summary: "The account's messages, newest first, paged",
          parameters: [
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'status', in: 'query', schema: { type: 'string' } },
            { name: 'to', in: 'query', schema: { type: 'string' } },
            { name: 'page', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: {
            '200': { description: 'A page of messages.', content: json('MessageList') },
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/messages/batch': {
        post: {
          operationId: 'sendBatch',
          summary: `Send up to ${S.BATCH_MAX} messages; each gets its own result (accepted, or its problem)`,
          parameters: [idempotencyKey],
          requestBody: { required: true, content: json('BatchRequest') },
          responses: {
            '200': { description: 'One result per message, in order.', content: json('BatchResult') },
            ...submitErrors,
          },
        },
      },
      '/v1/messages/{id}': {
        get: {
          operationId: 'getMessage',
          summary: "Status, parts, price and timeline of one of the account's messages",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': { description: 'The message.', content: json('MessageStatus') },
            '404': problemResponse('No such message in this account.', ['not-found']),
            ...AUTH_ERRORS,
          },
        },
      },
      '/v1/balance': {
        get: {
          operationId: 'getBalance',
          summary: "The account's prepaid balance and whether sending is blocked",
          responses: { '200': { description: 'The balance.', content: json('Balance') }, ...AUTH_ERRORS },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An smshub API key.' } },
      schemas,
    },
  }) as Record<string, Json>;
}
