// Plain input/output types of the DLR domain. They deliberately do not import the protobuf contracts:
// a thin mapper in the service adapts Kafka messages to these shapes, so the rules below stay testable
// without I/O. Times are epoch milliseconds (UTC).

/** Normalised delivery status (SMPP 3.4 section 5.2.28 message_state, names without the prefix). */
export type DlrStatus =
  'ENROUTE' | 'ACCEPTED' | 'DELIVERED' | 'EXPIRED' | 'DELETED' | 'UNDELIVERABLE' | 'REJECTED' | 'UNKNOWN';

/** How a connector writes its message ids (see message-id.ts). */
export interface IdFormatSetting {
  /** Format of the id in submit_sm_resp and in the receipted_message_id TLV. */
  format: 'hex' | 'decimal' | 'auto';
  /** Width the supplier zero-pads its native id to (only used to render an id back, e.g. for query_sm). */
  pad?: number;
  /** Letter case of the supplier's native hex ids (rendering only; matching ignores case). */
  case?: 'upper' | 'lower' | 'any';
  /**
   * Format of the id in the receipt TEXT when the operator knows it (e.g. Kannel's msg-id-type, or the
   * MESSAGE_ID_FORMAT_HEX_RESP_DECIMAL_RECEIPT connector option). When absent, learned from evidence.
   */
  textFormat?: 'hex' | 'decimal' | 'auto';
}

/**
 * One submit_sm attempt of one part on a supplier connector, as reported by egress.
 * `accepted` is true when the supplier answered submit_sm_resp with ESME_ROK and gave a message id.
 */
export interface Dispatch {
  hubMessageId: string;
  /** 0-based part index. */
  partIndex: number;
  partsTotal: number;
  connectorId: string;
  /** 1-based attempt number for this part. */
  attempt: number;
  supplierMessageId?: string;
  /** command_status of submit_sm_resp; undefined when no response came (timeout, connection lost). */
  smppStatus?: number;
  accepted: boolean;
  /** Egress gave up on this part (no more retries): the part is UNDELIVERABLE. */
  finalFailure: boolean;
  time: number;
}

/** A delivery receipt (deliver_sm with esm_class 0x04, or data_sm) as received from a supplier. */
export interface Receipt {
  connectorId: string;
  /** The hub's id of this receipt (SmsReceiptRaw.receipt_id), when it has one. */
  receiptId?: string;
  /** receipted_message_id TLV 0x001E. */
  tlvMessageId?: string;
  /** message_state TLV 0x0427. */
  tlvMessageState?: number;
  /** network_error_code TLV 0x0423, as received (e.g. "03:0001" or hex of the 3 octets). */
  networkErrorCode?: string;
  /** `id:` of the receipt text (parsed from `text` when absent). */
  textId?: string;
  /** `stat:` of the receipt text (parsed from `text` when absent). */
  statText?: string;
  /** `err:` of the receipt text (parsed from `text` when absent). */
  err?: string;
  /** `done date:` as epoch ms (parsed from `text` when absent). */
  doneDate?: number;
  /** The receipt text (short_message or message_payload, decoded). */
  text?: string;
  /** Opaque raw form kept for dead-lettering (e.g. hex of the PDU). */
  raw?: string;
  receivedAt: number;
}

/** A receipt after text parsing and status normalisation (TLVs preferred over text). */
export interface NormalisedReceipt {
  connectorId: string;
  status: DlrStatus;
  /** Supplier error code: the text `err:` field as received, or undefined. */
  err?: string;
  networkErrorCode?: string;
  doneDate?: number;
  receivedAt: number;
  /** Which field the supplier id came from. */
  idSource: 'tlv' | 'text' | 'none';
  supplierMessageId?: string;
}

/** Customer-visible delivery notification (to become an sms.delivery event). */
export interface DeliveryNotification {
  hubMessageId: string;
  accountId?: string;
  status: DlrStatus;
  /** Customer-facing 7-character stat text (DELIVRD, UNDELIV, ...). */
  stat: string;
  /** SMPP message_state number 1..8. */
  messageState: number;
  /** Customer-facing 3-character error code. */
  err: string;
  final: boolean;
  partsTotal: number;
  partsDelivered: number;
  /** Connector that produced the outcome, when known. */
  connectorId?: string;
  /** When the outcome happened (done date when the supplier gave one, else event time). */
  time: number;
}
