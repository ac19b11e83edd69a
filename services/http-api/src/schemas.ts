/**
 * The JSON Schemas of API v1: the server validates requests and serialises responses with them (Fastify:
 * Ajv and fast-json-stringify), and openapi.ts builds the OpenAPI 3.1 document from the very same objects.
 * Keep to the subset both read alike (JSON Schema 2020-12 as OpenAPI 3.1 uses it, and Ajv's draft-07):
 * type, properties, required, additionalProperties, enum, pattern, min/max, format, items, nullable via
 * type arrays.
 */

/** Longest text taken: 255 segments of UCS2 (67 characters each) is 17,085; more can never be sent. */
export const TEXT_MAX = 17_085;
export const BATCH_MAX = 1_000;

export const MessageRequest = {
  $id: 'MessageRequest',
  type: 'object',
  additionalProperties: false,
  required: ['to', 'from', 'text'],
  properties: {
    to: {
      type: 'string',
      minLength: 1,
      maxLength: 32,
      description: 'Destination number in E.164 form, with the leading "+" (e.g. "+447400123456").',
    },
    from: {
      type: 'string',
      minLength: 1,
      maxLength: 16,
      description:
        'Sender: up to 11 letters, digits, spaces and ._&-, or a number (E.164 with "+", or a short code of up to 8 digits).',
    },
    text: {
      type: 'string',
      minLength: 1,
      maxLength: TEXT_MAX,
      description:
        'Message text, any length up to 255 segments: one hub message, split into SMS parts on the way out.',
    },
    encoding: {
      type: 'string',
      enum: ['auto', 'gsm7', 'ucs2'],
      default: 'auto',
      description: 'auto: GSM 03.38 when the text fits it, else UCS2.',
    },
    validity: {
      type: 'integer',
      minimum: 60,
      maximum: 604_800,
      description: "Seconds the network may try to deliver (default: the account's default validity).",
    },
    traffic_type: {
      type: 'string',
      enum: ['otp', 'transactional', 'marketing'],
      description: "Traffic type routing and firewall rules match on (default: the account's).",
    },
    client_reference: {
      type: 'string',
      maxLength: 64,
      description: 'Your own reference, returned with the status and in receipts.',
    },
    send_at: {
      type: 'string',
      format: 'date-time',
      description:
        'RFC 3339 time (with its offset, e.g. 2026-12-24T09:00:00+01:00) at which the hub sends the message: ' +
        'it is accepted now and held until then (a time in the past sends it now). Before the validity end.',
    },
    callback_url: {
      type: 'string',
      format: 'uri',
      maxLength: 2048,
      pattern: '^https?://',
      description: "Where this message's delivery receipts are POSTed (default: the account's webhook URL).",
    },
  },
} as const;

export const Price = {
  $id: 'Price',
  type: 'object',
  required: ['currency', 'amount'],
  properties: {
    currency: { type: 'string', description: 'ISO 4217 code.' },
    amount: { type: 'string', description: 'Decimal amount for the whole message (all segments).' },
  },
} as const;

export const MessageAccepted = {
  $id: 'MessageAccepted',
  type: 'object',
  required: ['id', 'status', 'segments', 'price'],
  properties: {
    id: { type: 'string', description: 'Hub message id (UUIDv7).' },
    status: { type: 'string', enum: ['accepted'] },
    segments: { type: 'integer', description: 'SMS parts the text needs.' },
    encoding: { type: 'string', enum: ['gsm7', 'ucs2'] },
    price: {
      anyOf: [{ $ref: 'Price#' }, { type: 'null' }],
      description:
        "Sell price of the whole message: the account's sell rate (else its price plan's) for the " +
        "destination's longest prefix, else its country, per segment × segments. null when no such rate " +
        'applies. A rate for the destination network (MCC-MNC), known only after routing, takes precedence ' +
        'when the message is rated: the rated price is in GET /v1/messages/{id}.',
    },
    client_reference: { type: 'string' },
  },
} as const;

export const Problem = {
  $id: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status'],
  additionalProperties: true,
  properties: {
    type: { type: 'string', description: 'Stable identifier of the error (urn:smshub:problem:...).' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { pointer: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

export const BatchRequest = {
  $id: 'BatchRequest',
  type: 'object',
  additionalProperties: false,
  required: ['messages'],
  properties: {
    messages: { type: 'array', minItems: 1, maxItems: BATCH_MAX, items: { $ref: 'MessageRequest#' } },
  },
} as const;

export const BatchResult = {
  $id: 'BatchResult',
  type: 'object',
  required: ['accepted', 'rejected', 'results'],
  properties: {
    accepted: { type: 'integer' },
    rejected: { type: 'integer' },
    results: {
      type: 'array',
      description: 'One entry per message, in the order sent: the accepted message or its problem.',
      items: {
        type: 'object',
        required: ['index'],
        properties: {
          index: { type: 'integer' },
          message: { $ref: 'MessageAccepted#' },
          problem: { $ref: 'Problem#' },
        },
      },
    },
  },
} as const;

export const Balance = {
  $id: 'Balance',
  type: 'object',
  required: ['account_id', 'blocked'],
  properties: {
    account_id: { type: 'string' },
    currency: { type: 'string' },
    balance: { type: 'string', description: 'Decimal balance (negative when the account owes).' },
    credit_limit: { type: 'string' },
    blocked: { type: 'boolean', description: 'True when sending is refused for lack of credit.' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const MessageStatus = {
  $id: 'MessageStatus',
  type: 'object',
  required: ['id', 'status'],
  properties: {
    id: { type: 'string' },
    status: {
      type: 'string',
      description: 'accepted, enroute, delivered, undeliverable, expired, rejected, deleted, unknown.',
    },
    final: { type: 'boolean' },
    to: { type: 'string' },
    from: { type: 'string' },
    segments: { type: 'integer' },
    price: { $ref: 'Price#' },
    client_reference: { type: 'string' },
    submitted_at: { type: 'string', format: 'date-time' },
    done_at: { type: 'string', format: 'date-time' },
    error: {
      type: 'object',
      properties: { type: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
    },
    timeline: {
      type: 'array',
      items: {
        type: 'object',
        properties: { time: { type: 'string', format: 'date-time' }, event: { type: 'string' } },
      },
    },
  },
} as const;

export const MessageList = {
  $id: 'MessageList',
  type: 'object',
  required: ['messages'],
  properties: {
    messages: { type: 'array', items: { $ref: 'MessageStatus#' } },
    next: { type: 'string', description: 'Pass as `page` for the next page; absent on the last one.' },
  },
} as const;

export const ALL_SCHEMAS = [
  MessageRequest,
  Price,
  MessageAccepted,
  Problem,
  BatchRequest,
  BatchResult,
  Balance,
  MessageStatus,
  MessageList,
] as const;
