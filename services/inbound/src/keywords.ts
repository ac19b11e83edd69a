// The keyword hook: called once per inbound message (MO), after the hub number has been resolved to an
// account and a long message reassembled, before the message is published on sms.inbound.v1 for the
// customer. Opt-out handling (STOP/START/HELP, issue 19 part 2): src/optout.
//
// Contract for whoever fills it:
//  - it may be called more than once for the same message (at-least-once consumption; message.messageId is
//    stable across redeliveries), so its effects must be idempotent;
//  - 'deliver' publishes the message to the customer as usual; 'consume' swallows it (the hub answered it
//    itself and the customer never sees it), counted as smshub_inbound_consumed_total{reason} with the
//    reason given;
//  - a thrown error that is `retriable` makes the consumer retry the batch; any other error dead-letters
//    the MO record.
import type { Pool } from '@smshub/db';
import type { Logger } from '@smshub/logging';
import type { TypedProducer } from '@smshub/kafka';
import type { SmsInbound, topics as registry } from '@smshub/contracts';
import { handleKeyword } from './optout/index.js';

/** What the hook decides for one inbound message. */
export type KeywordOutcome = { action: 'deliver' } | { action: 'consume'; reason: string };

/** What the hook may use: the inbound stage's pool, producer and topics, and the clock. */
export interface KeywordDeps {
  pool: Pool;
  logger: Logger;
  producer: TypedProducer;
  topics: typeof registry;
  now: () => Date;
}

/** The message as it will be published (account resolved, text decoded; `text` empty for binary). */
export type InboundMessage = Readonly<SmsInbound>;

/**
 * Opt-out keywords (src/optout): a STOP-family word adds the subscriber to the account's opt-out list
 * (for the hub number, or account-wide), START/UNSTOP removes it, HELP is answered; replies go out as MTs
 * of the account. The message itself is always delivered: the customer sees the STOP as operators expect
 * (their own records, their own CRM), and the hub has already acted on it.
 */
export async function applyKeywords(message: InboundMessage, deps: KeywordDeps): Promise<KeywordOutcome> {
  await handleKeyword(message, deps);
  return { action: 'deliver' };
}
