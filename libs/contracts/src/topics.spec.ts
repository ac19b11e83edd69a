import { describe, expect, it } from 'vitest';
import {
  namespacedGroup,
  namespacedTopics,
  ChangeAction,
  DeadLetter,
  ResourceKind,
  SmsDispatched,
  SmsReceiptRaw,
  SmsRouted,
  TopicKeyError,
  deadLetterSpec,
  deadLetterTopic,
  topics,
  type TopicId,
  type TopicSpec,
} from './index.js';

import { HUB_ID, T0, T1, BIG, submitted, samples } from './samples.js';

const ids = Object.keys(topics) as TopicId[];
const specOf = (id: TopicId) => topics[id] as TopicSpec<unknown>;

describe('topic registry', () => {
  it.each(ids)('%s round-trips encode/decode, bigint, bytes and dates included', (id) => {
    const spec = specOf(id);
    const value = samples[id];
    const bytes = spec.encode(value);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBeGreaterThan(0);
    expect(spec.decode(bytes)).toEqual(value);
  });

  it('encodes with a shared writer exactly as a fresh one, after a throwing encode and a large record too', () => {
    const codecs: Record<string, { encode(v: unknown): { finish(): Uint8Array } }> = {
      dispatched: SmsDispatched,
      routed: SmsRouted,
      receiptRaw: SmsReceiptRaw,
    };
    const fresh = (id: TopicId): Uint8Array => codecs[id]!.encode(samples[id]).finish();
    const same = (): void => {
      for (const id of ['dispatched', 'routed', 'receiptRaw'] as const)
        expect(Buffer.from(specOf(id).encode(samples[id])).equals(Buffer.from(fresh(id)))).toBe(true);
    };
    same();
    // uint32 field set to -1: the generated encoder throws after writing the context into the writer.
    expect(() => topics.dispatched.encode({ ...samples.dispatched, partTotal: -1 })).toThrow();
    same();
    const big = {
      ...samples.routed,
      message: { ...samples.routed.message!, shortMessage: Buffer.alloc(40_000, 7) },
    };
    const decoded = topics.routed.decode(topics.routed.encode(big));
    expect(Buffer.from(decoded.message!.shortMessage).equals(Buffer.from(big.message.shortMessage))).toBe(
      true,
    );
    same();
    // The bytes returned are the caller's: the next encode does not overwrite them.
    const a = topics.dispatched.encode(samples.dispatched);
    const copy = Buffer.from(a);
    topics.dispatched.encode({ ...samples.dispatched, connectorId: 'zzzzzzzzzzzzzzzzzzzz' });
    expect(Buffer.from(a).equals(copy)).toBe(true);
  });

  it('keeps 64-bit values above 2^53 exact', () => {
    const decoded = topics.routed.decode(topics.routed.encode(samples.routed));
    expect(decoded.candidates[1]?.expectedCost?.minorUnits).toBe(BIG);
    const stats = topics.deliveryStats.decode(topics.deliveryStats.encode(samples.deliveryStats));
    expect(stats.accepted).toBe(BIG);
    const balance = topics.balances.decode(topics.balances.encode(samples.balances));
    expect(balance.balance?.minorUnits).toBe(-1_500_000n);
  });

  it('keeps message bytes as bytes, never text', () => {
    const decoded = topics.submitted.decode(topics.submitted.encode(submitted));
    expect(decoded.shortMessage).toBeInstanceOf(Uint8Array);
    expect([...decoded.shortMessage]).toEqual([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0x00, 0x48, 0x00, 0x69]);
  });

  it('lets an old consumer read a record carrying a field it does not know', () => {
    const current = topics.submitted.encode(submitted);
    // Field 999, wire type 0 (varint), value 1: what a newer producer might add.
    const tag = [0xb8, 0x3e];
    const newer = Buffer.from([...current, ...tag, 0x01]);
    expect(topics.submitted.decode(newer)).toEqual(submitted);
  });

  it('uses the fixed topic names and the documented layouts', () => {
    const layout = Object.fromEntries(
      ids.map((id) => [
        specOf(id).name,
        [specOf(id).partitions, specOf(id).retentionMs, specOf(id).compacted],
      ]),
    );
    const week = 7 * 24 * 3600 * 1000;
    expect(layout).toEqual({
      'sms.submitted.v1': [6, week, false],
      'sms.scheduled.v1': [6, week, false],
      'sms.routed.v1': [6, week, false],
      'sms.rejected.v1': [6, week, false],
      'sms.reroute.v1': [6, week, false],
      'sms.dispatched.v1': [6, week, false],
      'sms.receipt.raw.v1': [6, week, false],
      'sms.mo.v1': [6, week, false],
      'sms.inbound.v1': [6, week, false],
      'dlr.parts.v1': [6, week, false],
      'sms.delivery.v1': [6, week, false],
      'billing.rated.v1': [6, 30 * 24 * 3600 * 1000, false],
      'config.changes.v1': [1, null, true],
      'balances.v1': [6, null, true],
      'egress.connector-state.v1': [1, null, true],
      'delivery.stats.v1': [1, null, true],
      'routing.suspicion.v1': [1, null, true],
      'audit.v1': [1, 90 * 24 * 3600 * 1000, false],
    });
  });
});

describe('record keys', () => {
  it('keys suspicions by connector, and destination when limited to one', () => {
    expect(topics.suspicion.key(samples.suspicion)).toBe('con_grey');
    expect(topics.suspicion.key({ ...samples.suspicion, destination: '4477' })).toBe('con_grey/4477');
  });
  it('keys connector state by connector and replica', () => {
    expect(topics.connectorState.key(samples.connectorState)).toBe('con_1/egress-0');
  });
  it('keys the message flow by hub message id', () => {
    expect(topics.submitted.key(samples.submitted)).toBe(HUB_ID);
    expect(topics.routed.key(samples.routed)).toBe(HUB_ID);
    expect(topics.rejected.key(samples.rejected)).toBe(HUB_ID);
    expect(topics.partStatus.key(samples.partStatus)).toBe(HUB_ID);
    expect(topics.delivery.key(samples.delivery)).toBe(HUB_ID);
    expect(topics.rated.key(samples.rated)).toBe(HUB_ID);
  });

  it('puts a dispatch and the receipt of the same supplier message under the same key', () => {
    expect(topics.dispatched.key(samples.dispatched)).toBe('con_a/2587');
    expect(topics.receiptRaw.key(samples.receiptRaw)).toBe('con_a/2587');
  });

  it('keys a dispatch without a supplier id by hub id and an unidentifiable receipt by receipt id', () => {
    const failed = {
      ...samples.dispatched,
      supplierMessageId: '',
      supplierMessageIdNormalised: '',
      commandStatus: 0x58,
    };
    expect(topics.dispatched.key(failed)).toBe(HUB_ID);
    const unparsed = { ...samples.receiptRaw, supplierMessageIdNormalised: '' };
    expect(topics.receiptRaw.key(unparsed)).toBe('01935f3e-0000-7000-8000-0000000000aa');
  });

  it('keys MO by hub number and subscriber so a conversation stays ordered', () => {
    expect(topics.mo.key(samples.mo)).toBe('447700900999/447700900123');
  });

  it('keys config changes by resource kind and id', () => {
    expect(topics.configChanges.key(samples.configChanges)).toBe('routing_rule/rr_1');
    const account = {
      ...samples.configChanges,
      kind: ResourceKind.RESOURCE_KIND_ACCOUNT,
      resourceId: 'acc_1',
    };
    expect(topics.configChanges.key(account)).toBe('account/acc_1');
    const reload = {
      ...samples.configChanges,
      kind: ResourceKind.RESOURCE_KIND_PORTED_NUMBER,
      resourceId: '*',
      action: ChangeAction.CHANGE_ACTION_RELOAD,
    };
    expect(topics.configChanges.key(reload)).toBe('ported_number/*');
  });

  it('keys balances by account and delivery stats by connector and destination', () => {
    expect(topics.balances.key(samples.balances)).toBe('acc_1');
    expect(topics.deliveryStats.key(samples.deliveryStats)).toBe('con_a/mccmnc:234-15');
    expect(topics.audit.key(samples.audit)).toBe(samples.audit.eventId);
    const byPrefix = { ...samples.deliveryStats, destination: { $case: 'prefix' as const, value: '4477' } };
    expect(topics.deliveryStats.key(byPrefix)).toBe('con_a/prefix:4477');
  });

  it('refuses to key a record that lacks its key field', () => {
    expect(() => topics.submitted.key({ ...submitted, messageId: '' })).toThrow(TopicKeyError);
    expect(() => topics.routed.key({ ...samples.routed, message: undefined })).toThrow(/message\.message_id/);
    expect(() =>
      topics.configChanges.key({ ...samples.configChanges, kind: ResourceKind.RESOURCE_KIND_UNSPECIFIED }),
    ).toThrow(TopicKeyError);
    expect(() => topics.deliveryStats.key({ ...samples.deliveryStats, destination: undefined })).toThrow(
      TopicKeyError,
    );
  });
});

describe('dead letters', () => {
  it('names one dead-letter topic per consumer group', () => {
    expect(deadLetterTopic('routing')).toBe('routing.dlq');
    expect(() => deadLetterTopic('')).toThrow(TypeError);
  });

  it('round-trips the envelope and keys it by the original key', () => {
    const spec = deadLetterSpec('dlr');
    expect(spec.name).toBe('dlr.dlq');
    const letter = DeadLetter.fromPartial({
      topic: 'sms.receipt.raw.v1',
      partition: 3,
      offset: BIG,
      key: Buffer.from('con_a/2587'),
      value: Buffer.from([0xff, 0x00, 0x13]),
      headers: [{ key: 'traceparent', value: Buffer.from('00-abc-def-01') }],
      recordTime: T0,
      consumerGroup: 'dlr',
      errorType: 'DecodeError',
      errorMessage: 'invalid wire type',
      attempts: 3,
      failedAt: T1,
    });
    expect(spec.decode(spec.encode(letter))).toEqual(letter);
    expect(spec.key(letter)).toBe('con_a/2587');
    expect(spec.key({ ...letter, key: Buffer.alloc(0) })).toBe(`sms.receipt.raw.v1/3/${BIG}`);
  });
});

describe('namespaces', () => {
  it('prefix every topic name and keep codecs and keys', () => {
    const ns = namespacedTopics(topics, 'staging');
    expect(ns.submitted.name).toBe('staging.sms.submitted.v1');
    expect(Object.values(ns).every((t) => t.name.startsWith('staging.'))).toBe(true);
    expect(ns.rated.key).toBe(topics.rated.key);
    expect(namespacedTopics(topics, undefined)).toBe(topics);
    expect(topics.submitted.name).toBe('sms.submitted.v1');
  });

  it('prefix consumer groups (and so their dead-letter topics)', () => {
    expect(namespacedGroup('smshub-dlr', 'e2e-1')).toBe('e2e-1.smshub-dlr');
    expect(namespacedGroup('smshub-dlr', undefined)).toBe('smshub-dlr');
  });
});
