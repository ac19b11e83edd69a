import type { Pdu, PduFields, SmppLogger } from '@smshub/smpp';

/** Final receipt stats the simulator can draw (weights in `receipts.mix`). */
export type SimulatedStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD';

/** A fixed value, or a uniform draw in [min, max]. */
export type Range = number | { min: number; max: number };

export interface ReceiptBehaviour {
  /** Weights of the final stats (need not sum to 1). Default { DELIVRD: 1 }. */
  mix?: Partial<Record<SimulatedStat, number>>;
  /** Delay between submit_sm_resp and the final receipt. Default 0 (sent on the next tick). */
  delayMs?: Range;
  /**
   * How the message id is written. submit_sm_resp and receipted_message_id always carry it in lower-case hex;
   * the receipt text carries hex ('hex', default) or the same number in decimal ('decimal': the classic
   * mismatch that Kannel's msg-id-type exists for).
   */
  idStyle?: 'hex' | 'decimal';
  /** Zero-pad ids to this many characters (both forms). Default 0 (no padding). */
  pad?: number;
  /**
   * Receipt text: 'standard' (10-digit dates, `text:`), 'seconds' (12-digit dates), 'capitalText'
   * (`Text:`), 'noText' (no text field at all). Default 'standard'.
   */
  textVariant?: 'standard' | 'seconds' | 'capitalText' | 'noText';
  /**
   * Where the outcome travels: 'text' (short_message only), 'tlv' (receipted_message_id 0x001E,
   * message_state 0x0427, network_error_code 0x0423; empty short_message), 'both' (default).
   */
  carrier?: 'text' | 'tlv' | 'both';
  /** Send an ENROUTE receipt (esm_class 0x04, message_state 1) half-way before the final one. Default false. */
  intermediate?: boolean;
}

/** Which accepted messages a network behaviour applies to. */
export interface MessageSelector {
  /** Destination prefixes (digits; a leading '+' is ignored). Unset or empty: every destination. */
  prefixes?: string[];
  /** Share (0..1) of the matching messages, drawn per message. Default 1 (all of them). */
  share?: number;
}

/**
 * A fake-DLR grey route: the selected messages get a DELIVRD receipt (whatever `receipts.mix` would draw)
 * but never reach the handset (no handset confirmation).
 */
export type FakeReceipts = MessageSelector;

/**
 * A late network: submit_sm_resp and the receipt as usual (at once), but the handset gets the selected
 * messages only `delayMs` after the receipt would say they were delivered.
 */
export interface LateDelivery extends MessageSelector {
  delayMs: Range;
}

/**
 * The simulator's handsets: numbers (an operator's probe devices) whose handset confirms each message it
 * really receives with an MO (deliver_sm esm_class 0) from the number to the message's source address,
 * carrying the probe token found in the message: at once on a real delivery, `lateDelivery.delayMs` later
 * for a late one, never for a fake receipt or a failed delivery. A message without a token is not confirmed.
 */
export interface Handsets {
  /** Probe numbers (digits; a leading '+' is ignored). */
  numbers: string[];
  /** Regular expression (source) finding the token in the text. Default `PRB-[0-9A-Za-z]+`. */
  tokenPattern?: string;
  /** Text of the confirmation; `{token}` is replaced. Default `ACK {token}`. */
  replyTemplate?: string;
}

export interface SimulatorOptions {
  /** Accept only binds with this system_id (ESME_RINVSYSID otherwise). Unset: any. */
  systemId?: string;
  /** Accept only binds with this password (ESME_RINVPASWD otherwise). Unset: any. */
  password?: string;
  /** Delay before submit_sm_resp. Default 0 (answered at once). */
  acceptLatencyMs?: Range;
  /** submit_sm per second accepted by this simulator across all its sessions; beyond it ESME_RTHROTTLED. 0/unset: no cap. */
  tpsCap?: number;
  /** Probability (0..1) that a submit_sm is answered with this command_status instead of being accepted. */
  errorRates?: Partial<Record<number, number>>;
  /** Delivery receipts. Unset: every accepted message with registered_delivery gets DELIVRD (defaults above). */
  receipts?: ReceiptBehaviour;
  /** Fake-DLR grey route behaviour (DELIVRD without delivery). Unset: off. */
  fakeReceipts?: FakeReceipts | undefined;
  /** Late delivery to the handset behind a quick receipt. Unset: off. */
  lateDelivery?: LateDelivery | undefined;
  /** Probe handsets that confirm real deliveries with an MO. Unset: none. */
  handsets?: Handsets | undefined;
  /** Destroy one random bound session after every N submit_sm (across sessions). 0/unset: never. */
  disconnectEvery?: number;
  /** Per-session window: inbound submit_sm in flight, and outbound deliver_sm awaiting their resp. Default 100. */
  window?: number;
  /** Listen with TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** PRNG seed: the same seed and the same inputs give the same draws. Default: random. */
  seed?: number;
  /** How many accepted submits `received()` keeps (oldest dropped). Default 10 000; 0 keeps none. */
  keepReceived?: number;
  /** Window of the duplicate detector. Default 60 000 ms. */
  duplicateWindowMs?: number;
  /** Receipts waiting for a receiver/transceiver bind, per system_id, before the oldest are dropped. Default 100 000. */
  receiptQueueLimit?: number;
  /** system_id the simulator puts in bind_resp. Default 'smsc-sim'. */
  smscSystemId?: string;
  logger?: SmppLogger;
}

/** A submit_sm the simulator accepted. */
export interface ReceivedSubmit {
  /** Local id of the session it came on. */
  sessionId: string;
  /** system_id the session bound with. */
  systemId: string;
  /** Epoch ms when it was accepted. */
  time: number;
  serviceType: string;
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  esmClass: number;
  registeredDelivery: number;
  dataCoding: number;
  /** short_message exactly as received (UDH included when esm_class has UDHI). */
  shortMessage: Buffer;
  messagePayload?: Buffer;
  /** Concatenation info from the UDH (IEI 0x00 / 0x08) or the sar_* TLVs. */
  concat?: { ref: number; total: number; seq: number; refBits: number; via: 'udh' | 'sar' };
  /** Message id given in submit_sm_resp (hex). */
  messageId: string;
  /** The id as written in the receipt text (hex or decimal per idStyle). */
  receiptId: string;
  /** Same source, destination and content (UDH/SAR part included) accepted within duplicateWindowMs before. */
  duplicate: boolean;
  /** The decoded PDU, for anything else. */
  pdu: Pdu;
}

/** A delivery receipt the simulator sent (event 'receipt'). */
export interface SentReceipt {
  messageId: string;
  stat: 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD' | 'ENROUTE';
  sessionId: string;
  systemId: string;
  fields: PduFields;
}

export interface SimulatorCounters {
  /** Successful binds. */
  binds: number;
  /** submit_sm received (every outcome). */
  submits: number;
  /** submit_sm answered ESME_ROK. */
  accepted: number;
  /** Injected errors (errorRates) by command_status. */
  rejectedByStatus: Record<number, number>;
  /** Answered ESME_RTHROTTLED because of tpsCap. */
  throttled: number;
  /** deliver_sm receipts written (intermediate ones included). */
  receiptsSent: number;
  /** deliver_sm receipts answered with ESME_ROK. */
  receiptsAcked: number;
  /** Receipts dropped because the queue for their system_id was full. */
  receiptsDropped: number;
  /** Receipts the ESME refused with a permanent error, or with transient ones five times; not sent again. */
  receiptsNacked: number;
  /**
   * Accepted submit_sm whose (source_addr, destination_addr, short_message bytes including any UDH,
   * message_payload, sar_msg_ref_num/sar_total_segments/sar_segment_seqnum) equals one accepted less than
   * duplicateWindowMs (60 s) earlier, on any session. A retried part counts; the same text to another
   * destination or as another part does not.
   */
  duplicates: number;
  /** Sessions dropped by disconnectEvery. */
  disconnects: number;
  /** Messages given a DELIVRD receipt by fakeReceipts (never delivered). */
  fakeReceipts: number;
  /** Messages delivered late by lateDelivery. */
  lateDeliveries: number;
  /** Messages to a handset number that really reached it (late ones when they arrive). */
  handsetDeliveries: number;
  /** Handset confirmations (MO) the hub answered with ESME_ROK. */
  handsetConfirmations: number;
  /** Handset confirmations given up (no receiver bound, or refused, after retries). */
  handsetConfirmationsFailed: number;
}

/** A message that reached a handset number (event 'handset'). */
export interface HandsetDelivery {
  /** The handset's number (the message's destination). */
  number: string;
  /** The message's source address (where the confirmation goes). */
  to: string;
  messageId: string;
  /** Token found in the text; undefined: none (no confirmation). */
  token: string | undefined;
  /** Epoch ms of the submit_sm, and of the delivery to the handset. */
  submitTime: number;
  deliveredAt: number;
  late: boolean;
}

export interface SimulatorEvents {
  submit: [submit: ReceivedSubmit];
  receipt: [receipt: SentReceipt];
  bind: [info: { sessionId: string; systemId: string; bindType: string }];
  handset: [delivery: HandsetDelivery];
}

export interface Simulator {
  /** Listen (default port 0 = any free port, host 127.0.0.1). */
  listen(port?: number, host?: string): Promise<{ port: number }>;
  /** Unbind every session, stop timers. Queued receipts are dropped. */
  close(): Promise<void>;
  /** Change behaviour at run time (counters and queued receipts are kept). */
  setBehaviour(patch: Partial<SimulatorOptions>): void;
  readonly counters: Readonly<SimulatorCounters>;
  /** Accepted submits, oldest first (at most keepReceived). */
  received(): ReadonlyArray<ReceivedSubmit>;
  /** The options now in force (after every setBehaviour). */
  readonly options: Readonly<SimulatorOptions>;
  /** Receipts waiting for a receiver bind, all system_ids. */
  readonly pendingReceipts: number;
  /** Bound sessions now. */
  readonly boundSessions: number;
  /**
   * Send a deliver_sm (an MO message, or a hand-made receipt) on a bound receiver/transceiver of
   * `systemId` (any when unset). Rejects when none is bound.
   */
  deliver(fields: PduFields, systemId?: string): Promise<Pdu>;
  on<K extends keyof SimulatorEvents>(event: K, listener: (...args: SimulatorEvents[K]) => void): this;
  off<K extends keyof SimulatorEvents>(event: K, listener: (...args: SimulatorEvents[K]) => void): this;
  once<K extends keyof SimulatorEvents>(event: K, listener: (...args: SimulatorEvents[K]) => void): this;
}
