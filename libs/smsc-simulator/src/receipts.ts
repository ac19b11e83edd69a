import {
  encodeNetworkErrorCode,
  formatReceipt,
  statToMessageState,
  ESM_CLASS_DELIVERY_RECEIPT,
  type PduFields,
} from '@smshub/smpp';
import type { Plan } from './behaviour.js';
import type { SimulatedStat } from './types.js';

export type ReceiptStatOut = SimulatedStat | 'ENROUTE';

/** What a receipt needs to know about its message; built once per accepted submit that wants one. */
export interface ReceiptJob {
  messageId: string;
  receiptId: string;
  systemId: string;
  /** Original source/destination (swapped in the receipt). */
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  submitTime: number;
  stat: ReceiptStatOut;
  /** First characters of the message for the `text:` field. */
  text: string;
  /** Sends so far (retries of transient refusals). */
  attempts?: number;
}

/** GSM MAP error causes written in `err:` and network_error_code for each outcome. */
export const ERROR_CODES: Readonly<Record<ReceiptStatOut, number>> = {
  DELIVRD: 0,
  ENROUTE: 0,
  UNDELIV: 1, // unknown subscriber
  EXPIRED: 27, // absent subscriber
  REJECTD: 13, // call barred
};

/** Message ids for the n-th accepted message: hex in submit_sm_resp, hex or decimal in the receipt text. */
export function formatIds(
  n: number,
  idStyle: 'hex' | 'decimal',
  pad: number,
): { messageId: string; receiptId: string } {
  const messageId = n.toString(16).padStart(pad, '0');
  const receiptId = idStyle === 'decimal' ? n.toString(10).padStart(pad, '0') : messageId;
  return { messageId, receiptId };
}

/** Receipt text in the plan's variant. */
export function receiptText(job: ReceiptJob, doneTime: number, plan: Plan): string {
  const err = ERROR_CODES[job.stat];
  const text = formatReceipt({
    id: job.receiptId,
    sub: 1,
    dlvrd: job.stat === 'DELIVRD' ? 1 : 0,
    submitDate: new Date(job.submitTime),
    doneDate: new Date(doneTime),
    stat: job.stat,
    err,
    text: plan.textVariant === 'noText' ? '' : job.text,
    dateDigits: plan.textVariant === 'seconds' ? 12 : 10,
  });
  const at = text.lastIndexOf(' text:');
  if (plan.textVariant === 'noText') return text.slice(0, at);
  if (plan.textVariant === 'capitalText') return `${text.slice(0, at)} Text:${text.slice(at + 6)}`;
  return text;
}

/** deliver_sm fields of a receipt (esm_class 0x04; source and destination swapped). */
export function receiptFields(job: ReceiptJob, doneTime: number, plan: Plan): PduFields {
  const fields: PduFields = {
    source_addr_ton: job.destAddrTon,
    source_addr_npi: job.destAddrNpi,
    source_addr: job.destinationAddr,
    dest_addr_ton: job.sourceAddrTon,
    dest_addr_npi: job.sourceAddrNpi,
    destination_addr: job.sourceAddr,
    esm_class: ESM_CLASS_DELIVERY_RECEIPT,
    data_coding: 0,
    short_message:
      plan.carrier === 'tlv' ? Buffer.alloc(0) : Buffer.from(receiptText(job, doneTime, plan), 'latin1'),
  };
  if (plan.carrier !== 'text') {
    fields.receipted_message_id = job.messageId;
    fields.message_state = statToMessageState(job.stat);
    const err = ERROR_CODES[job.stat];
    if (err !== 0) fields.network_error_code = encodeNetworkErrorCode({ networkType: 3, errorCode: err });
  }
  return fields;
}
