// Held messages in dlr's timeline over real Kafka and Postgres: a message routing held for quiet hours
// (its submitted record, then the held record on sms.scheduled.v1 with hold_until and reason) and then
// released by the scheduler (sms.submitted.v1 with released_at) is shown by GetMessage as submitted ->
// held -> released -> routed, the held entry carrying hold_until and hold_reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HoldReason, SmsSubmitted } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup();
});

afterAll(async () => {
  await h.teardown();
});

describe('held and released in the timeline', () => {
  it('shows held (with hold_until and reason) and released between submitted and routed', async () => {
    const hubId = uuidv7();
    const receivedAt = new Date(Date.now() - 10_000);
    await h.submit({ hubId, receivedAt });
    await waitFor(
      async () => (await h.getMessage({ messageId: hubId }).catch(() => undefined))?.timeline.length,
      {
        what: 'the submitted entry',
      },
    );
    const ctx = h.context({ hubId, receivedAt });
    const base = SmsSubmitted.fromPartial({
      messageId: hubId,
      accountId: ctx.accountId,
      systemId: ctx.systemId,
      source: ctx.source,
      destination: ctx.destination,
      shortMessage: Buffer.from('Your code is 123456'),
      receivedAt,
      customerMessageId: ctx.customerMessageId,
    });
    const holdUntil = new Date(Date.now() + 1_000);
    await h.producer.produce(h.topics.scheduled, {
      ...base,
      holdUntil,
      holdReason: HoldReason.HOLD_REASON_QUIET_HOURS,
    });
    await waitFor(
      async () =>
        (await h.getMessage({ messageId: hubId })).timeline.some((e) => e.event?.$case === 'held') ||
        undefined,
      { what: 'the held entry' },
    );
    const releasedAt = new Date(holdUntil.getTime() + 50);
    await h.producer.produce(h.topics.submitted, {
      ...base,
      holdUntil,
      holdReason: HoldReason.HOLD_REASON_QUIET_HOURS,
      releasedAt,
    });
    await h.producer.produce(h.topics.routed, {
      message: { ...base, releasedAt },
      candidates: [{ connectorId: 'con_q', ruleId: 'r', reason: 'priority 1', buyRateId: '' }],
      strategy: 0,
      routedAt: new Date(releasedAt.getTime() + 20),
    });
    const res = await waitFor(
      async () => {
        const r = await h.getMessage({ messageId: hubId });
        // The released (sms.submitted.v1) and routed (sms.routed.v1) records are on different topics: dlr
        // may store either first.
        const kinds = r.timeline.map((e) => e.event?.$case);
        return kinds.includes('routed') && kinds.includes('released') ? r : undefined;
      },
      { what: 'the released and routed entries' },
    );
    expect(res.timeline.map((e) => e.event?.$case)).toEqual(['submitted', 'held', 'released', 'routed']);
    const held = res.timeline[1]!.event;
    expect(held?.$case === 'held' && held.value.holdUntil?.getTime()).toBe(holdUntil.getTime());
    expect(held?.$case === 'held' && held.value.holdReason).toBe(HoldReason.HOLD_REASON_QUIET_HOURS);
    expect(res.timeline[1]!.topic).toBe(h.topics.scheduled.name);
    expect(res.timeline[2]!.time?.getTime()).toBe(releasedAt.getTime());
  }, 60_000);
});
