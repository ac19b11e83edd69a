import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { HoldReason, SubmitChannel, TrafficType, type SmsSubmitted } from '@smshub/contracts';
import { canEncodeGsm7, segmentText } from '@smshub/smpp';
import { ProblemError } from './problems.js';

/**
 * One `POST /v1/messages` body -> the sms.submitted.v1 event, with no I/O. The text becomes ONE hub
 * message carried like an SMPP `message_payload` (from_message_payload, no concat): egress splits it into
 * parts for the supplier, exactly as for an SMPP client that sent a long text in one submit_sm.
 *
 * Encoding: `auto` is GSM 03.38 (data_coding 0, one septet per octet as SMPP carries it) when every
 * character is in the GSM alphabet or its extension table, else UCS2 (data_coding 8). `gsm7` with a text
 * that does not fit is a validation error rather than a silent switch (the customer asked for a price
 * class). Segments are counted as egress will split them: 160/153 septets, 70/67 UCS2 code units.
 */
export interface MessageInput {
  to: string;
  from: string;
  text: string;
  encoding?: 'auto' | 'gsm7' | 'ucs2';
  validity?: number;
  traffic_type?: 'otp' | 'transactional' | 'marketing';
  client_reference?: string;
  callback_url?: string;
  /** RFC 3339: the hub holds the message until then (services/scheduler). */
  send_at?: string;
}

export interface AccountFacts {
  id: string;
  defaultValiditySeconds: number;
  defaultTrafficType: TrafficType;
}

export interface Composed {
  event: SmsSubmitted;
  segments: number;
  encoding: 'gsm7' | 'ucs2';
  /** The destination's country (ISO 3166 alpha-2) when its number says it; for the price quote. */
  country: string | undefined;
}

const MAX_SEGMENTS = 255;
const TRAFFIC: Record<NonNullable<MessageInput['traffic_type']>, TrafficType> = {
  otp: TrafficType.TRAFFIC_TYPE_OTP,
  transactional: TrafficType.TRAFFIC_TYPE_TRANSACTIONAL,
  marketing: TrafficType.TRAFFIC_TYPE_MARKETING,
};

/** The destination as E.164 digits without "+"; invalid-number unless it is a possible E.164 number. */
export function destinationDigits(to: string): string {
  return destinationOf(to).digits;
}

/** destinationDigits, and the number's country (undefined for a non-geographic or unclaimed number). */
export function destinationOf(to: string): { digits: string; country: string | undefined } {
  if (!/^\+[1-9][0-9]{5,14}$/.test(to))
    throw new ProblemError('invalid-number', `"to" must be E.164 with a leading "+", e.g. +447400123456`);
  const parsed = parsePhoneNumberFromString(to);
  if (!parsed || !parsed.isPossible())
    throw new ProblemError('invalid-number', `"to" is not a possible number of any country`);
  return { digits: to.slice(1), country: parsed.country };
}

/** TON/NPI and address of the sender. */
export function senderAddress(from: string): { ton: number; npi: number; address: string } {
  if (/^\+[1-9][0-9]{5,14}$/.test(from)) return { ton: 1, npi: 1, address: from.slice(1) };
  if (/^[0-9]{3,8}$/.test(from)) return { ton: 3, npi: 0, address: from }; // a short code
  if (/^[0-9]{9,15}$/.test(from)) return { ton: 1, npi: 1, address: from }; // international without "+"
  if (/^[A-Za-z0-9 ._&-]{1,11}$/.test(from) && /[A-Za-z]/.test(from))
    return { ton: 5, npi: 0, address: from };
  throw new ProblemError(
    'invalid-sender',
    '"from" must be up to 11 letters, digits, spaces and ._&- (with at least one letter), or a number',
  );
}

export function compose(args: {
  input: MessageInput;
  account: AccountFacts;
  messageId: string;
  replica: string;
  requestId: string;
  remoteAddress: string;
  now: Date;
}): Composed {
  const { input, account, now } = args;
  const { digits: destination, country } = destinationOf(input.to);
  const source = senderAddress(input.from);
  const wanted = input.encoding ?? 'auto';
  if (wanted === 'gsm7' && !canEncodeGsm7(input.text))
    throw new ProblemError('validation-failed', 'the text has characters outside the GSM 03.38 alphabet', {
      errors: [{ pointer: '/encoding', message: 'use "auto" or "ucs2" for this text' }],
    });
  const encoding: 'gsm7' | 'ucs2' =
    wanted === 'auto' ? (canEncodeGsm7(input.text) ? 'gsm7' : 'ucs2') : wanted;
  let split: ReturnType<typeof segmentText>;
  try {
    split = segmentText(input.text, { encoding, method: 'udh8', reference: 0 });
  } catch (err) {
    if (err instanceof RangeError)
      throw new ProblemError('text-too-long', `the text needs more than ${MAX_SEGMENTS} segments`);
    throw err;
  }
  const segments = split.parts.length;
  const payload = segmentText(input.text, { encoding, method: 'payload' }).parts[0]!.messagePayload!;
  const validitySeconds = input.validity ?? account.defaultValiditySeconds;
  const validityUntil = new Date(now.getTime() + validitySeconds * 1000);
  const sendAt = input.send_at === undefined ? undefined : new Date(input.send_at);
  if (sendAt && Number.isNaN(sendAt.getTime()))
    throw new ProblemError('validation-failed', '"send_at" is not an RFC 3339 date-time', {
      errors: [{ pointer: '/send_at', message: 'e.g. 2026-12-24T09:00:00Z' }],
    });
  // A time in the past means now, as for SMPP's schedule_delivery_time.
  const holdUntil = sendAt && sendAt.getTime() > now.getTime() ? sendAt : undefined;
  if (holdUntil && holdUntil.getTime() >= validityUntil.getTime())
    throw new ProblemError('validation-failed', '"send_at" is after the validity end', {
      errors: [
        { pointer: '/send_at', message: 'send it before the validity ends (or give a longer validity)' },
      ],
    });
  const event: SmsSubmitted = {
    messageId: args.messageId,
    accountId: account.id,
    systemId: '',
    session: {
      replica: args.replica,
      sessionId: args.requestId,
      systemId: '',
      bindType: 0,
      remoteAddress: args.remoteAddress,
      interfaceVersion: 0,
    },
    source,
    destination: { ton: 1, npi: 1, address: destination },
    esmClass: 0,
    protocolId: 0,
    priority: 0,
    // Final receipts are always wanted: they feed GET /v1/messages/{id}, webhooks and billing.
    registeredDelivery: 1,
    dataCoding: split.dataCoding,
    shortMessage: payload,
    fromMessagePayload: true,
    concat: undefined,
    serviceType: '',
    validityUntil,
    validityPeriodRaw: '',
    scheduleAt: holdUntil,
    scheduleDeliveryTimeRaw: '',
    tlvs: [],
    receivedAt: now,
    customerMessageId: args.messageId,
    trafficType: input.traffic_type ? TRAFFIC[input.traffic_type] : account.defaultTrafficType,
    replaceIfPresent: 0,
    smDefaultMsgId: 0,
    channel: SubmitChannel.SUBMIT_CHANNEL_HTTP,
    callbackUrl: input.callback_url ?? '',
    clientReference: input.client_reference ?? '',
    // send_at in the future: held by services/scheduler (sms.scheduled.v1) until then.
    holdUntil,
    holdReason: holdUntil ? HoldReason.HOLD_REASON_SCHEDULE : HoldReason.HOLD_REASON_UNSPECIFIED,
    releasedAt: undefined,
  };
  return { event, segments, encoding, country };
}
