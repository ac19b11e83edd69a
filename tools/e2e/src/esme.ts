// A customer's SMPP client for the end-to-end tests: one transceiver bind to ingress that submits messages
// and collects the delivery receipts ingress sends back as deliver_sm, matched by the hub message id.
import {
  connectSmpp,
  messageText,
  parseReceipt,
  partFields,
  segmentText,
  SmppError,
  statusName,
  type Pdu,
  type PduFields,
  type ReceiptStat,
  type SegmentOptions,
  type SmppSession,
} from '@smshub/smpp';
import { waitFor } from '@smshub/testing';

/** A delivery receipt as the customer sees it. */
export interface Receipt {
  /** Hub message id it is about (receipted_message_id TLV, else the `id:` of the text). */
  id: string;
  stat: ReceiptStat | string;
  err?: string;
  /** Receipt text as sent. */
  text: string;
}

/** Outcome of one submit_sm: the id from submit_sm_resp, or the refusal's command_status. */
export type SubmitOutcome =
  { ok: true; messageId: string } | { ok: false; commandStatus: number; statusName: string };

export interface EsmeOptions {
  host?: string;
  port: number;
  systemId: string;
  password: string;
}

export class Esme {
  private readonly receipts = new Map<string, Receipt>();
  /** Receipts received per hub message id (a message must get exactly one). */
  private readonly counts = new Map<string, number>();
  /** deliver_sm that were not receipts (MO), or receipts without a readable id. */
  readonly unmatched: string[] = [];

  private constructor(private readonly session: SmppSession) {}

  static async bind(opts: EsmeOptions): Promise<Esme> {
    const holder: { esme?: Esme } = {};
    const session = await connectSmpp({
      host: opts.host ?? '127.0.0.1',
      port: opts.port,
      systemId: opts.systemId,
      password: opts.password,
      bindType: 'transceiver',
      enquireLinkMs: 0,
      responseTimeoutMs: 15_000,
      handlers: {
        deliver_sm: (pdu) => {
          holder.esme?.onDeliver(pdu);
        },
      },
    });
    holder.esme = new Esme(session);
    return holder.esme;
  }

  private onDeliver(pdu: Pdu): void {
    const text = messageText(pdu) ?? '';
    if (((pdu.esm_class ?? 0) & 0x3c) === 0) {
      this.unmatched.push(text);
      return;
    }
    const parsed = parseReceipt(text);
    const id = pdu.receipted_message_id || parsed.id;
    const stat = parsed.stat ?? parsed.statRaw;
    if (!id || !stat) {
      this.unmatched.push(text);
      return;
    }
    this.receipts.set(id, { id, stat, text, ...(parsed.err !== undefined && { err: parsed.err }) });
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }

  /** How many receipts arrived for `messageId` so far. */
  receiptCount(messageId: string): number {
    return this.counts.get(messageId) ?? 0;
  }

  /** Sends one submit_sm asking for a receipt (registered_delivery=1 unless `fields` says otherwise). */
  async submit(fields: PduFields): Promise<SubmitOutcome> {
    try {
      const resp = await this.session.submit({
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: 'SMSHUB',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        registered_delivery: 1,
        ...fields,
      });
      return { ok: true, messageId: resp.message_id ?? '' };
    } catch (err) {
      if (err instanceof SmppError && err.commandStatus !== undefined && err.commandStatus !== 0)
        return { ok: false, commandStatus: err.commandStatus, statusName: statusName(err.commandStatus) };
      throw err;
    }
  }

  /** Submits `text` (split with UDH when it does not fit one part) and returns one outcome per part. */
  async submitText(
    destination: string,
    text: string,
    opts: Partial<SegmentOptions> = {},
  ): Promise<SubmitOutcome[]> {
    const segmented = segmentText(text, {
      method: 'udh8',
      reference: Math.floor(Math.random() * 256),
      ...opts,
    });
    const out: SubmitOutcome[] = [];
    for (const part of segmented.parts)
      out.push(await this.submit({ destination_addr: destination, ...partFields(segmented, part) }));
    return out;
  }

  /** The receipt for `messageId`, waiting for it up to `timeoutMs`. */
  receipt(messageId: string, timeoutMs = 30_000): Promise<Receipt> {
    return waitFor(() => this.receipts.get(messageId), {
      timeoutMs,
      intervalMs: 100,
      what: `the delivery receipt for ${messageId}`,
    });
  }

  /** Receipt already received for `messageId`, if any. */
  receivedReceipt(messageId: string): Receipt | undefined {
    return this.receipts.get(messageId);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** The hub message id of an accepted submission; throws with the command_status otherwise. */
export function acceptedId(outcome: SubmitOutcome): string {
  if (!outcome.ok)
    throw new Error(`submit_sm refused with ${outcome.statusName} (0x${outcome.commandStatus.toString(16)})`);
  return outcome.messageId;
}
