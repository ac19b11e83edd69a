// Supplier message id normalisation.
//
// A supplier may report one message id in several spellings: hex in submit_sm_resp and in the
// receipted_message_id TLV, decimal in the receipt text ("0A1B2C" vs "id:662316"; note 0x0A1B2C = 662316), zero-padded or not,
// upper or lower case. Correlation therefore works on canonical keys, never on the raw strings:
//
// - an id that parses as a number becomes `n:<decimal value>` (a bigint printed in base 10), so
//   "0A1B2C", "a1b2c", "000A1B2C" read as hex and "660268", "0000660268" read as decimal are all
//   `n:662316`;
// - anything else (UUIDs, ids with dashes or letters beyond f) becomes `s:<trimmed, lower-cased>`.
//
// Ambiguity rule: a string of decimal digits only ("123") is a valid hex AND a valid decimal number.
// When the format is not known (format 'auto', or receipt text without learned evidence) such an id
// yields TWO candidate keys, decimal interpretation first, hex second ([`n:123`, `n:291`]); a receipt
// matches a dispatch when any candidate of one equals any candidate of the other, preferring the earlier
// candidates (see Correlator). A connector configured 'hex' or 'decimal' yields exactly one key for its
// native ids, and the per-connector evidence (TLV id and text id seen together on the same receipt)
// settles how the receipt text is written, after which text ids also yield one key.

import type { IdFormatSetting } from './types.js';

export type IdKey = string;
export type IdFormat = IdFormatSetting['format'];

const DECIMAL = /^[0-9]+$/;
const HEX = /^[0-9a-f]+$/i;
const HEX_0X = /^0x([0-9a-f]+)$/i;

export function numericKey(value: bigint): IdKey {
  return `n:${value.toString(10)}`;
}

function stringKey(trimmed: string): IdKey {
  return `s:${trimmed.toLowerCase()}`;
}

function hexKey(digits: string): IdKey {
  return numericKey(BigInt(`0x${digits}`));
}

function decimalKey(digits: string): IdKey {
  return numericKey(BigInt(digits));
}

/**
 * Candidate canonical keys of one id string, most likely interpretation first. Empty for an empty id.
 * - 'hex': hex digits -> one key; otherwise the string key.
 * - 'decimal': decimal digits -> one key; otherwise treated as 'auto' (a mis-configured connector
 *   must not make every receipt unmatched).
 * - 'auto': decimal digits only -> [decimal, hex]; hex digits with a letter -> [hex]; else string key.
 * A leading "0x" always means hex.
 */
export function candidateKeys(raw: string, format: IdFormat): IdKey[] {
  const trimmed = raw.trim();
  if (trimmed === '') return [];
  const prefixed = HEX_0X.exec(trimmed);
  if (prefixed?.[1] !== undefined) return [hexKey(prefixed[1])];
  if (format === 'hex') return HEX.test(trimmed) ? [hexKey(trimmed)] : [stringKey(trimmed)];
  if (DECIMAL.test(trimmed)) {
    if (format === 'decimal') return [decimalKey(trimmed)];
    const dec = decimalKey(trimmed);
    const hex = hexKey(trimmed);
    return dec === hex ? [dec] : [dec, hex];
  }
  if (HEX.test(trimmed)) return [hexKey(trimmed)];
  return [stringKey(trimmed)];
}

/** The single preferred key (first candidate), or undefined for an empty id. */
export function primaryKey(raw: string, format: IdFormat): IdKey | undefined {
  return candidateKeys(raw, format)[0];
}

/**
 * Render a canonical numeric key back in the connector's native spelling (for query_sm/cancel_sm and
 * logs). String keys are returned without their prefix. 'auto' renders decimal.
 */
export function renderNative(key: IdKey, setting: IdFormatSetting): string {
  if (key.startsWith('s:')) return key.slice(2);
  const value = BigInt(key.slice(2));
  let text = setting.format === 'hex' ? value.toString(16) : value.toString(10);
  if (setting.format === 'hex' && setting.case === 'upper') text = text.toUpperCase();
  if (setting.pad !== undefined && text.length < setting.pad) text = text.padStart(setting.pad, '0');
  return text;
}

/** Per-connector evidence of how the receipt text writes ids, learned from receipts carrying both. */
export interface IdEvidence {
  textDecimal: number;
  textHex: number;
}

export const NO_EVIDENCE: IdEvidence = Object.freeze({ textDecimal: 0, textHex: 0 });

/**
 * Update evidence from a receipt that carries both the TLV id (native format) and a text id. Only
 * observations that discriminate count: a text id whose decimal reading equals the TLV value and whose
 * hex reading does not is evidence for 'decimal', and the reverse for 'hex'.
 */
export function observeIdPair(
  evidence: IdEvidence,
  tlvId: string,
  textId: string,
  nativeFormat: IdFormat,
): IdEvidence {
  const tlv = primaryKey(tlvId, nativeFormat);
  const text = textId.trim();
  if (tlv === undefined || !HEX.test(text)) return evidence;
  const asDec = DECIMAL.test(text) ? decimalKey(text) : undefined;
  const asHex = hexKey(text);
  if (asDec === tlv && asHex !== tlv) return { ...evidence, textDecimal: evidence.textDecimal + 1 };
  if (asHex === tlv && asDec !== tlv) return { ...evidence, textHex: evidence.textHex + 1 };
  return evidence;
}

/** Minimum discriminating observations before evidence decides the text format. */
export const EVIDENCE_MIN = 3;

/**
 * The text-id format the evidence supports: 'decimal' or 'hex' once there are at least EVIDENCE_MIN
 * discriminating observations and at least 90 % of them agree; otherwise 'auto'.
 */
export function textFormatFromEvidence(evidence: IdEvidence): IdFormat {
  const total = evidence.textDecimal + evidence.textHex;
  if (total < EVIDENCE_MIN) return 'auto';
  if (evidence.textDecimal * 10 >= total * 9) return 'decimal';
  if (evidence.textHex * 10 >= total * 9) return 'hex';
  return 'auto';
}
