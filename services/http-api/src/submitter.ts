import { v7 as uuidv7 } from 'uuid';
import type { TypedProducer } from '@smshub/kafka';
import { ProduceOutcomeUnknownError } from '@smshub/kafka';
import type { Logger } from '@smshub/logging';
import type { BalanceCache, SellRateCache, Throttles } from '@smshub/quota';
import type { topics as registry } from '@smshub/contracts';
import type { ApiAccount } from './accounts.js';
import { compose, type MessageInput } from './compose.js';
import type { DoorRegistry } from './door-registry.js';
import * as m from './metrics.js';
import type { OptOutCache } from './optouts.js';
import { ProblemError } from './problems.js';
import { decimal } from './server.js';

/** What a 202 carries (schemas.ts MessageAccepted). */
export interface Accepted {
  id: string;
  status: 'accepted';
  segments: number;
  encoding: 'gsm7' | 'ucs2';
  /** Sell price of the whole message (per segment × segments) when a rate applies; see priceOf. */
  price: { currency: string; amount: string } | null;
  client_reference?: string;
}

/** A message that passed every check and holds its token, ready to produce. */
export interface Admitted {
  accountId: string;
  accepted: Accepted;
  bytes: Buffer;
  /** send_at in the future: produced to sms.scheduled.v1 (held by services/scheduler). */
  held?: boolean;
}

/**
 * The checks of one message, in the order ingress makes them for submit_sm (fields, credit, rate), then
 * the durable accept: the answer waits for Kafka's acks=all (the producer has definite outcomes, as
 * ingress's: an error answer means the message was certainly not written).
 */
export class Submitter {
  constructor(
    private readonly deps: {
      producer: TypedProducer;
      topics: typeof registry;
      balances: BalanceCache;
      throttles: Throttles;
      /** Opt-out lists (optouts.ts): a recipient who opted out of the account is refused here. */
      optOuts?: Pick<OptOutCache, 'blocks'>;
      sellRates: Pick<SellRateCache, 'quote'>;
      doors: DoorRegistry;
      replicaId: string;
      creditCheck: boolean;
      logger: Logger;
    },
  ) {}

  newId(): string {
    return uuidv7();
  }

  /** The checks of one message; throws the ProblemError of the first that fails. */
  admit(args: {
    input: MessageInput;
    account: ApiAccount;
    messageId: string;
    requestId: string;
    ip: string;
    now: Date;
  }): Admitted {
    const { account, now } = args;
    const composed = compose({
      input: args.input,
      account,
      messageId: args.messageId,
      replica: this.deps.replicaId,
      requestId: args.requestId,
      remoteAddress: args.ip,
      now,
    });
    const e = composed.event;
    if (this.deps.optOuts?.blocks(account.id, e.destination?.address ?? '', e.source?.address ?? ''))
      throw new ProblemError(
        'opted-out',
        `${args.input.to} opted out of messages from this account (replied STOP); nothing was sent`,
      );
    if (this.deps.creditCheck && this.deps.balances.blocked(account.id))
      throw new ProblemError('insufficient-balance', 'the account is out of credit; top it up to send again');
    const rate = this.deps.doors.rate(account.systemId, account.tpsLimit, now.getTime());
    if (!this.deps.throttles.tryTake(account.id, rate, now.getTime())) {
      m.throttled.inc({ account: account.id });
      throw new ProblemError(
        'rate-limited',
        `the account may send ${account.tpsLimit} messages per second (all doors together)`,
        {},
        { 'retry-after': String(Math.max(1, Math.ceil(1 / Math.max(rate, 0.001)))) },
      );
    }
    const bytes = Buffer.from(this.deps.topics.submitted.encode(composed.event));
    return {
      accountId: account.id,
      bytes,
      held: composed.event.holdUntil !== undefined,
      accepted: {
        id: args.messageId,
        status: 'accepted',
        segments: composed.segments,
        encoding: composed.encoding,
        price: this.priceOf(account, composed, now),
        ...(args.input.client_reference !== undefined
          ? { client_reference: args.input.client_reference }
          : {}),
      },
    };
  }

  /**
   * The price the 202 states: the sell rate rating will apply (libs/quota SellRateCache.quote: the
   * account's rates, then its price plan's, by longest prefix then country) per segment × segments, in the
   * rate's currency. null when no rate applies before routing (a rate for the network alone, or none).
   */
  private priceOf(
    account: ApiAccount,
    composed: { segments: number; country: string | undefined; event: { destination?: { address: string } } },
    now: Date,
  ): Accepted['price'] {
    const rate = this.deps.sellRates.quote(
      {
        accountId: account.id,
        pricePlanId: account.pricePlanId,
        digits: composed.event.destination?.address ?? '',
        country: composed.country,
      },
      now.getTime(),
    );
    if (!rate) return null;
    return { currency: rate.currency, amount: decimal(rate.amount * BigInt(composed.segments), rate.scale) };
  }

  /** Produces an admitted message; 503 unavailable when Kafka certainly did not take it. */
  async produce(a: Admitted): Promise<Accepted> {
    try {
      const topic = a.held ? this.deps.topics.scheduled : this.deps.topics.submitted;
      await this.deps.producer.produceRaw(topic.name, a.accepted.id, a.bytes);
    } catch (err) {
      if (err instanceof ProduceOutcomeUnknownError) {
        // Shutting down while Kafka had not answered: it may be sent; the client's retry with its
        // Idempotency-Key is the safe way on, an error answer would not be.
        this.deps.logger.error({ messageId: a.accepted.id }, 'outcome unknown at shutdown');
        throw err;
      }
      this.deps.logger.error(
        { messageId: a.accepted.id, err: (err as Error).message },
        'Kafka did not take the message; answered 503',
      );
      throw new ProblemError(
        'unavailable',
        'the message was not accepted (nothing was sent); retry',
        {},
        {
          'retry-after': '1',
        },
      );
    }
    m.accepted.inc({ account: a.accountId });
    return a.accepted;
  }
}
