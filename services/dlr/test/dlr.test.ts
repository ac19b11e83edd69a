// dlr over real Kafka (isolated topics) and Postgres (a fresh database): correlation, parking,
// duplicates, multi-part, expiry, rejections and failures, the gRPC MessageService and statistics.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryStatus, DispatchOutcome, SmsRejected, SmsRouted, SmsSubmitted } from '@smshub/contracts';
import { metricsRegistry } from '@smshub/telemetry';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { STORED_STATE, unpackState, type StoredState } from '../src/stored-state.js';
import { Harness, uuidv7 } from './harness.js';

const h = new Harness();

beforeAll(async () => {
  await h.setup();
});

afterAll(async () => {
  await h.teardown();
});

describe('correlation', () => {
  it('joins a hex submit_sm_resp id with the decimal id of the receipt text, and padded / lower-case TLV ids', async () => {
    const hex = uuidv7();
    const padded = uuidv7();
    await h.submit({ hubId: hex });
    await h.submit({ hubId: padded });
    // 0x0A1B2C = 662316
    await h.dispatch({ hubId: hex }, { connectorId: 'con_hex', supplierId: '0A1B2C', normalised: '662316' });
    await h.dispatch(
      { hubId: padded },
      { connectorId: 'con_hex', supplierId: '0000FF01', normalised: '65281' },
    );
    await h.receipt({ connectorId: 'con_hex', textId: '662316', normalised: '662316' });
    await h.receipt({ connectorId: 'con_hex', tlvId: 'ff01', textId: '65281', normalised: '65281' });

    const d1 = await h.waitFinal(hex);
    const d2 = await h.waitFinal(padded);
    expect(d1.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(d1.parts).toEqual([expect.objectContaining({ partNumber: 1, supplierMessageId: '0A1B2C' })]);
    expect(d1.connectorId).toBe('con_hex');
    expect(d1.revision).toBe(1);
    expect(d2.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(d2.context?.accountId).toBe('acc_1');
  });

  it('parks a receipt that arrives before its dispatch and joins it when the dispatch comes', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    const receiptId = await h.receipt({ connectorId: 'con_early', textId: '778899', normalised: '778899' });
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]))
          .rowCount === 1,
      { what: 'the receipt to be parked' },
    );
    expect(h.finals(hubId)).toEqual([]);
    await h.dispatch({ hubId }, { connectorId: 'con_early', supplierId: '778899', normalised: '778899' });
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]))
          .rowCount === 0,
      { what: 'the parked row to go' },
    );
    expect(h.deadLetters.filter((x) => x.receiptId === receiptId)).toEqual([]);
  });

  it('reports a receipt whose dispatch never comes as unmatched (dead-letter copy) after the park TTL', async () => {
    const receiptId = await h.receipt({ connectorId: 'con_lost', textId: '123123', normalised: '123123' });
    const dl = await waitFor(() => h.deadLetters.find((x) => x.receiptId === receiptId), {
      what: 'the dead-letter copy',
      timeoutMs: 20_000,
    });
    expect(dl.reason).toBe('park-expired');
    // The sweep publishes the copy, then deletes the row: wait for the delete (it may trail the copy).
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [receiptId]))
          .rowCount === 0,
      { what: 'the expired parked row to go' },
    );
  });

  it('dead-letters a receipt without any supplier id at once', async () => {
    const receiptId = await h.receipt({ connectorId: 'con_lost', stat: 'DELIVRD' });
    const dl = await waitFor(() => h.deadLetters.find((x) => x.receiptId === receiptId), {
      what: 'the dead-letter copy',
    });
    expect(dl.reason).toBe('no-id');
  });

  it('produces one final delivery only, whatever the duplicates of receipts and dispatches', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await h.dispatch({ hubId }, { connectorId: 'con_dup', supplierId: 'ABC123', normalised: '11256099' });
    await h.receipt({ connectorId: 'con_dup', tlvId: 'abc123', normalised: '11256099' });
    await h.waitFinal(hubId);
    // the same receipt again (a new receipt id, as a supplier resending it), the same dispatch again,
    // and a contradicting late receipt
    await h.receipt({ connectorId: 'con_dup', tlvId: 'ABC123', normalised: '11256099' });
    await h.dispatch({ hubId }, { connectorId: 'con_dup', supplierId: 'ABC123', normalised: '11256099' });
    await h.receipt({
      connectorId: 'con_dup',
      tlvId: 'ABC123',
      normalised: '11256099',
      stat: 'UNDELIV',
      err: '005',
    });
    await waitFor(
      async () =>
        Number(
          (
            await h.pool.query(
              "SELECT count(*) AS n FROM dlr_timeline WHERE message_id = $1 AND (kind = 'receipt' OR receipt IS NOT NULL)",
              [hubId],
            )
          ).rows[0].n,
        ) === 3,
      { what: 'all three receipts joined' },
    );
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    expect(h.deliveries.get(hubId)).toHaveLength(1);
    expect(h.finals(hubId)[0]?.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(await h.row(hubId)).toMatchObject({
      final: true,
      revision: 1,
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
    });
  });
});

describe('part states', () => {
  it('carries a dispatch and its receipt to the final delivery without a record on dlr.parts.v1', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await h.dispatch({ hubId }, { connectorId: 'con_hop', supplierId: 'ABC124', normalised: '11256100' });
    await h.receipt({ connectorId: 'con_hop', tlvId: 'abc124', normalised: '11256100' });
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(d.parts).toEqual([expect.objectContaining({ partNumber: 1, supplierMessageId: 'ABC124' })]);
    // every record on dlr.parts.v1 so far has been read by the test's own reader: none is this message's
    await waitForGroupCommitted({ groupId: h.partsGroup, topic: h.topics.partStatus.name });
    expect(h.partStates.filter((id) => id === hubId)).toEqual([]);
  });
});

describe('multi-part', () => {
  it('reports an egress-split 3-part message DELIVERED only when all 3 parts are', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    for (const [n, id] of [
      [1, '5001'],
      [2, '5002'],
      [3, '5003'],
    ] as const) {
      await h.dispatch(
        { hubId },
        { connectorId: 'con_mp', supplierId: id, normalised: id, partNumber: n, partTotal: 3 },
      );
    }
    await h.receipt({ connectorId: 'con_mp', textId: '5001', normalised: '5001' });
    await h.receipt({ connectorId: 'con_mp', textId: '5003', normalised: '5003' });
    await waitFor(async () => (await h.row(hubId))?.parts_delivered === 2, { what: 'two parts delivered' });
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    expect(h.finals(hubId)).toEqual([]);
    expect((await h.row(hubId))?.final).toBe(false);

    await h.receipt({ connectorId: 'con_mp', textId: '5002', normalised: '5002' });
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(d.parts.map((p) => [p.partNumber, p.status])).toEqual([
      [1, DeliveryStatus.DELIVERY_STATUS_DELIVERED],
      [2, DeliveryStatus.DELIVERY_STATUS_DELIVERED],
      [3, DeliveryStatus.DELIVERY_STATUS_DELIVERED],
    ]);
    expect(d.segments).toBe(3);
  });

  it('reports the failure of one part as the message status', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await h.dispatch(
      { hubId },
      { connectorId: 'con_mp', supplierId: '6001', normalised: '6001', partNumber: 1, partTotal: 2 },
    );
    await h.dispatch(
      { hubId },
      { connectorId: 'con_mp', supplierId: '6002', normalised: '6002', partNumber: 2, partTotal: 2 },
    );
    await h.receipt({ connectorId: 'con_mp', textId: '6001', normalised: '6001' });
    await h.receipt({
      connectorId: 'con_mp',
      textId: '6002',
      normalised: '6002',
      stat: 'UNDELIV',
      err: '012',
    });
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE);
    expect(d.error).toMatchObject({ receiptError: 12 });
  });
});

describe('final outcomes without a delivery', () => {
  it('expires a message with no final receipt by the end of its validity', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId, validityUntil: new Date(Date.now() - 1_000) });
    await h.dispatch({ hubId }, { connectorId: 'con_slow', supplierId: '9009', normalised: '9009' });
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_EXPIRED);
    expect(d.error).toMatchObject({ code: 'EXPIRED', receiptError: 9 });
    // a supplier receipt after that changes nothing
    await h.receipt({ connectorId: 'con_slow', textId: '9009', normalised: '9009' });
    await waitFor(
      async () =>
        (
          await h.pool.query(
            "SELECT 1 FROM dlr_timeline WHERE message_id = $1 AND (kind = 'receipt' OR receipt IS NOT NULL)",
            [hubId],
          )
        ).rowCount === 1,
      { what: 'the late receipt joined' },
    );
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    expect(h.deliveries.get(hubId)).toHaveLength(1);
  });

  it('turns a routing rejection into a final REJECTED delivery with the rejection err', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    const ctx = h.context({ hubId });
    await h.producer.produce(
      h.topics.rejected,
      SmsRejected.fromPartial({
        message: SmsSubmitted.fromPartial({
          messageId: hubId,
          accountId: ctx.accountId,
          destination: ctx.destination,
          receivedAt: ctx.receivedAt,
        }),
        ruleId: 'fw_9',
        reason: 'blocked sender',
        error: { code: 'FIREWALL_BLOCKED', receiptError: 88, message: 'Sender not allowed' },
        rejectedAt: new Date(),
      }),
    );
    const d = await h.waitFinal(hubId);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_REJECTED);
    expect(d.error).toEqual({ code: 'REJECTED', receiptError: 88, message: 'Sender not allowed' });
  });

  it('reports a supplier failure receipt and an egress final failure as UNDELIVERABLE with their err', async () => {
    const receiptFail = uuidv7();
    const egressFail = uuidv7();
    await h.submit({ hubId: receiptFail });
    await h.submit({ hubId: egressFail });
    await h.dispatch(
      { hubId: receiptFail },
      { connectorId: 'con_f', supplierId: '4242', normalised: '4242' },
    );
    await h.receipt({
      connectorId: 'con_f',
      textId: '4242',
      normalised: '4242',
      stat: 'UNDELIV',
      err: '021',
    });
    // invalid destination (0x0B) on the last candidate
    await h.dispatch(
      { hubId: egressFail },
      {
        connectorId: 'con_f',
        outcome: DispatchOutcome.DISPATCH_OUTCOME_REJECTED,
        commandStatus: 0x0b,
        finalFailure: true,
      },
    );
    const a = await h.waitFinal(receiptFail);
    const b = await h.waitFinal(egressFail);
    expect(a.status).toBe(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE);
    expect(a.error?.receiptError).toBe(21);
    expect(b.status).toBe(DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE);
    expect(b.error?.receiptError).toBe(1);
  });
});

describe('MessageService (gRPC over loopback)', () => {
  it('answers the health check', async () => {
    // HealthCheckResponse{status: SERVING(1)}
    expect([...(await h.healthCheck())]).toEqual([0x08, 0x01]);
  });

  it('returns a message with its full timeline', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    const ctx = h.context({ hubId });
    await h.producer.produce(
      h.topics.routed,
      SmsRouted.fromPartial({
        message: SmsSubmitted.fromPartial({
          messageId: hubId,
          accountId: ctx.accountId,
          destination: ctx.destination,
        }),
        candidates: [{ connectorId: 'con_tl', ruleId: 'rr_1', reason: 'cheapest' }],
        destinationInfo: ctx.destinationInfo,
        routedAt: new Date(),
      }),
    );
    // a first attempt that timed out, then an accepted one
    await h.dispatch(
      { hubId },
      { connectorId: 'con_tl', outcome: DispatchOutcome.DISPATCH_OUTCOME_TIMEOUT, attempt: 1 },
    );
    await h.dispatch(
      { hubId },
      { connectorId: 'con_tl', supplierId: '31337', normalised: '31337', attempt: 2 },
    );
    await h.receipt({ connectorId: 'con_tl', textId: '31337', normalised: '31337' });
    await h.waitFinal(hubId);
    const res = await waitFor(
      async () => {
        const r = await h.getMessage({ messageId: hubId });
        return r.message?.final && r.timeline.length >= 6 ? r : undefined;
      },
      { what: 'the full timeline' },
    );
    expect(res.message).toMatchObject({
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      final: true,
      connectorId: 'con_tl',
    });
    expect(res.message?.context?.messageId).toBe(hubId);
    expect(res.timeline.map((e) => e.event?.$case)).toEqual([
      'submitted',
      'routed',
      'dispatched',
      'dispatched',
      'receipt',
      'delivery',
    ]);
    const attempts = res.timeline.flatMap((e) =>
      e.event?.$case === 'dispatched' ? [e.event.value.attempt] : [],
    );
    expect(attempts).toEqual([1, 2]);

    // by customer id within the account
    const byCustomerId = await h.getMessage({ customerMessageId: ctx.customerMessageId, accountId: 'acc_1' });
    expect(byCustomerId.message?.context?.messageId).toBe(hubId);
  });

  it('says NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
    await expect(h.getMessage({ messageId: uuidv7() })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: expect.stringContaining('not found'),
    });
    await expect(h.getMessage({ messageId: 'not-a-uuid' })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('lists an account’s messages newest first, filtered, in pages', async () => {
    const account = `acc_list_${Date.now()}`;
    const base = Date.now() - 60_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const receivedAt = new Date(base + i * 1000);
      const hubId = uuidv7(receivedAt.getTime());
      ids.push(hubId);
      await h.submit({
        hubId,
        accountId: account,
        receivedAt,
        destination: i === 4 ? '33612345678' : '447700900123',
      });
    }
    // The dispatch carries the message's context as egress's does (its receivedAt too): dlr may read it
    // before the submitted record, and the listing orders by the time the hub received the message.
    await h.dispatch(
      { hubId: ids[0]!, accountId: account, receivedAt: new Date(base) },
      {
        connectorId: 'con_l',
        outcome: DispatchOutcome.DISPATCH_OUTCOME_REJECTED,
        commandStatus: 0x45,
        finalFailure: true,
      },
    );
    await waitFor(
      async () =>
        Number(
          (await h.pool.query('SELECT count(*) AS n FROM dlr_messages WHERE account_id = $1', [account]))
            .rows[0].n,
        ) === 5,
      { what: 'five messages stored' },
    );
    await waitFor(async () => (await h.row(ids[0]!))?.final === true, { what: 'the failed one final' });
    const range = {
      accountId: account,
      startTime: new Date(base - 1000),
      endTime: new Date(base + 3_600_000),
    };
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await h.listMessages({ ...range, pageSize: 2, pageToken: token });
      seen.push(...page.messages.map((m) => m.context?.messageId ?? ''));
      token = page.nextPageToken;
      pages++;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    const uk = await h.listMessages({ ...range, destinationPrefix: '44' });
    expect(uk.messages).toHaveLength(4);
    const failed = await h.listMessages({
      ...range,
      statuses: [DeliveryStatus.DELIVERY_STATUS_UNDELIVERABLE],
    });
    expect(failed.messages.map((m) => m.context?.messageId)).toEqual([ids[0]]);

    const first = await h.listMessages({ ...range, pageSize: 2 });
    await expect(
      h.listMessages({ ...range, pageSize: 2, pageToken: first.nextPageToken, destinationPrefix: '33' }),
    ).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    await expect(h.listMessages({ accountId: account })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
  });
});

describe('delivery statistics', () => {
  it('publishes a poor delivery ratio for a route that mostly fails', async () => {
    const route = { mcc: '999', mnc: '01' };
    for (let i = 0; i < 4; i++) {
      const hubId = uuidv7();
      const sid = String(880000 + i);
      await h.submit({ hubId, ...route });
      await h.dispatch({ hubId, ...route }, { connectorId: 'con_poor', supplierId: sid, normalised: sid });
      await h.receipt({
        connectorId: 'con_poor',
        textId: sid,
        normalised: sid,
        ...(i === 0 ? {} : { stat: 'UNDELIV', err: '001' }),
      });
    }
    const good = uuidv7();
    await h.submit({ hubId: good, ...route });
    await h.dispatch(
      { hubId: good, ...route },
      { connectorId: 'con_good', supplierId: '770001', normalised: '770001' },
    );
    await h.receipt({ connectorId: 'con_good', textId: '770001', normalised: '770001' });

    const poor = await waitFor(
      () => {
        const s = h.stats.get('con_poor/mccmnc:999-01');
        return s !== undefined && s.accepted === 4n ? s : undefined;
      },
      { what: 'statistics of con_poor', timeoutMs: 20_000 },
    );
    expect(poor.delivered).toBe(1n);
    expect(poor.failed).toBe(3n);
    expect(poor.deliveryRatioPpm).toBe(250_000);
    expect(poor.destination).toEqual({ $case: 'mccMnc', value: '999-01' });
    const goodStats = await waitFor(() => h.stats.get('con_good/mccmnc:999-01'), {
      what: 'statistics of con_good',
    });
    expect(goodStats.deliveryRatioPpm).toBe(1_000_000);
  });
});

describe('restart', () => {
  it('keeps dispatches, parked receipts and final states across a restart', async () => {
    const indexed = uuidv7();
    const early = uuidv7();
    const done = uuidv7();
    await h.submit({ hubId: indexed });
    await h.submit({ hubId: early });
    await h.submit({ hubId: done });
    await h.dispatch({ hubId: indexed }, { connectorId: 'con_rs', supplierId: '2F00', normalised: '12032' });
    await h.dispatch({ hubId: done }, { connectorId: 'con_rs', supplierId: '2F01', normalised: '12033' });
    await h.receipt({ connectorId: 'con_rs', textId: '12033', normalised: '12033' });
    const parkedId = await h.receipt({ connectorId: 'con_rs', textId: '12034', normalised: '12034' });
    await h.waitFinal(done);
    await waitFor(
      async () =>
        (await h.pool.query('SELECT 1 FROM dlr_dispatch_index WHERE message_id = $1', [indexed])).rowCount ===
          1 &&
        (await h.pool.query('SELECT 1 FROM dlr_parked_receipts WHERE receipt_id = $1', [parkedId]))
          .rowCount === 1,
      { what: 'dispatch indexed and receipt parked' },
    );

    await h.restartDlr();

    // the receipt of a dispatch seen before the restart (hex 2F00 = 12032 in the text)
    await h.receipt({ connectorId: 'con_rs', textId: '12032', normalised: '12032' });
    // the dispatch of a receipt parked before the restart (hex 2F02 = 12034)
    await h.dispatch({ hubId: early }, { connectorId: 'con_rs', supplierId: '2F02', normalised: '12034' });
    // a duplicate of a receipt whose message was final before the restart
    await h.receipt({ connectorId: 'con_rs', textId: '12033', normalised: '12033' });

    expect((await h.waitFinal(indexed)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect((await h.waitFinal(early)).status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await waitFor(
      async () =>
        Number(
          (
            await h.pool.query(
              "SELECT count(*) AS n FROM dlr_timeline WHERE message_id = $1 AND (kind = 'receipt' OR receipt IS NOT NULL)",
              [done],
            )
          ).rows[0].n,
        ) === 2,
      { what: 'the duplicate joined' },
    );
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    expect(h.deliveries.get(done)).toHaveLength(1);
    const res = await h.getMessage({ messageId: indexed });
    expect(res.message?.final).toBe(true);
  });
});

describe('metrics', () => {
  it('counts receipts, unmatched receipts, expiries, latency and the delivery ratio', async () => {
    const text = await metricsRegistry.metrics();
    const value = (line: string): number => {
      const found = text.split('\n').find((l) => l.startsWith(line));
      return found === undefined ? Number.NaN : Number(found.slice(line.length).trim());
    };
    expect(value('smshub_dlr_receipts_total{connector="con_hex",status="DELIVERED"}')).toBe(2);
    expect(value('smshub_dlr_unmatched_total{reason="park-expired"}')).toBeGreaterThanOrEqual(1);
    expect(value('smshub_dlr_expired_total')).toBeGreaterThanOrEqual(1);
    expect(value('smshub_dlr_receipt_latency_seconds_count')).toBeGreaterThan(0);
    expect(value('smshub_dlr_delivery_ratio{connector="con_poor",prefix="mccmnc:999-01"}')).toBe(0.25);
  });
});

describe('retention', () => {
  it('deletes messages older than the retention', async () => {
    const hubId = uuidv7();
    await h.submit({ hubId });
    await waitFor(async () => (await h.row(hubId)) !== undefined, { what: 'the message stored' });
    const deleted = await h.dlr.aggregator.retention(Date.now() + 31 * 86_400_000);
    expect(deleted).toBeGreaterThan(0);
    await expect(h.getMessage({ messageId: hubId })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });
});

describe('crash', () => {
  it('applies every part state again after a crash before the join offsets were committed: no second delivery', async () => {
    const single = uuidv7();
    const multi = uuidv7();
    await h.submit({ hubId: single });
    await h.submit({ hubId: multi });
    await h.dispatch({ hubId: single }, { connectorId: 'con_cr', supplierId: '3A01', normalised: '14849' });
    for (const [n, id] of [
      [1, '3A02'],
      [2, '3A03'],
    ] as const) {
      await h.dispatch(
        { hubId: multi },
        {
          connectorId: 'con_cr',
          supplierId: id,
          normalised: String(parseInt(id, 16)),
          partNumber: n,
          partTotal: 2,
        },
      );
    }
    await h.receipt({ connectorId: 'con_cr', textId: '14849', normalised: '14849' });
    await h.receipt({ connectorId: 'con_cr', textId: String(0x3a02), normalised: String(0x3a02) });
    await h.waitFinal(single);
    await waitFor(async () => (await h.row(multi))?.parts_delivered === 1, {
      what: 'one part of two delivered',
    });

    // the new instance reads every dispatch and receipt again (fresh memory, nothing committed)
    await h.restartDlr([h.topics.dispatched.name, h.topics.receiptRaw.name]);
    await h.waitCaughtUp(h.topics.dispatched.name);
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    // the last part's receipt after the replay still completes the message, once
    await h.receipt({ connectorId: 'con_cr', textId: String(0x3a03), normalised: String(0x3a03) });
    const d = await h.waitFinal(multi);
    expect(d.status).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect(d.revision).toBe(1);
    // everything dlr produced so far has been read by the test's reader
    await waitForGroupCommitted({ groupId: h.deliveriesGroup, topic: h.topics.delivery.name });
    expect(h.deliveries.get(single)).toHaveLength(1);
    expect(h.deliveries.get(multi)).toHaveLength(1);
    expect(await h.row(single)).toMatchObject({ final: true, revision: 1 });
    expect(await h.row(multi)).toMatchObject({ final: true, revision: 1, parts_delivered: 2 });
  });
});

describe('crash between the dispatch and the receipt', () => {
  it('writes no message row for an accepted dispatch, and completes state and timeline once after a crash', async () => {
    const single = uuidv7();
    const multi = uuidv7();
    await h.submit({ hubId: single });
    await h.submit({ hubId: multi });
    const ctx = h.context({ hubId: single });
    await h.producer.produce(
      h.topics.routed,
      SmsRouted.fromPartial({
        message: SmsSubmitted.fromPartial({
          messageId: single,
          accountId: ctx.accountId,
          destination: ctx.destination,
        }),
        candidates: [{ connectorId: 'con_kd', ruleId: 'rr_kd', reason: 'cheapest' }],
        destinationInfo: ctx.destinationInfo,
        routedAt: new Date(),
      }),
    );
    const count = async (sql: string): Promise<number> =>
      Number((await h.pool.query(sql, [[single, multi]])).rows[0].n);
    // the routed event's timeline row is committed with the row it updated
    await waitFor(
      async () =>
        (await count(
          "SELECT count(*) AS n FROM dlr_timeline WHERE message_id = ANY($1::uuid[]) AND kind IN ('submitted', 'routed')",
        )) === 3,
      { what: 'both messages stored, one routed' },
    );
    const xmins = async (): Promise<string[]> =>
      (
        await h.pool.query<{ xmin: string }>(
          'SELECT xmin::text AS xmin FROM dlr_messages WHERE message_id = ANY($1::uuid[]) ORDER BY message_id',
          [[single, multi]],
        )
      ).rows.map((r) => r.xmin);
    const before = await xmins();

    await h.dispatch({ hubId: single }, { connectorId: 'con_kd', supplierId: '4B01', normalised: '19201' });
    for (const [n, id] of [
      [1, '4B02'],
      [2, '4B03'],
    ] as const) {
      await h.dispatch(
        { hubId: multi },
        {
          connectorId: 'con_kd',
          supplierId: id,
          normalised: String(parseInt(id, 16)),
          partNumber: n,
          partTotal: 2,
        },
      );
    }
    await waitFor(
      async () =>
        (await count('SELECT count(*) AS n FROM dlr_dispatch_index WHERE message_id = ANY($1::uuid[])')) ===
          3 &&
        (await count(
          'SELECT count(*) AS n FROM dlr_dispatch_index WHERE message_id = ANY($1::uuid[]) AND payload IS NOT NULL',
        )) === 3,
      { what: 'the three dispatches indexed' },
    );
    // The dispatches wrote their index rows, with their timeline events (DISPATCH_EVENT_IN_INDEX), not the
    // message rows (DISPATCH_REPLAY) ...
    expect(await xmins()).toEqual(before);
    // ... and MessageService reads the messages in flight as after their dispatches.
    expect((await h.getMessage({ messageId: multi })).message).toMatchObject({
      final: false,
      status: DeliveryStatus.DELIVERY_STATUS_ENROUTE,
      connectorId: 'con_kd',
      segments: 2,
    });
    const listed = await h.listMessages({
      accountId: 'acc_1',
      startTime: new Date(Date.now() - 60_000),
      endTime: new Date(Date.now() + 60_000),
      pageSize: 1000,
    });
    expect(listed.messages.find((m) => m.context?.messageId === single)).toMatchObject({
      connectorId: 'con_kd',
      segments: 1,
    });

    // Crash: a new instance (fresh memory) reads every dispatch again, as if none of their offsets was
    // committed; then the receipts come.
    await h.restartDlr([h.topics.dispatched.name]);
    await h.waitCaughtUp(h.topics.dispatched.name);
    await h.receipt({ connectorId: 'con_kd', textId: '19201', normalised: '19201' });
    await h.receipt({ connectorId: 'con_kd', textId: String(0x4b02), normalised: String(0x4b02) });
    await h.receipt({ connectorId: 'con_kd', textId: String(0x4b03), normalised: String(0x4b03) });

    const d1 = await h.waitFinal(single);
    const d2 = await h.waitFinal(multi);
    expect(d1).toMatchObject({
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      revision: 1,
      connectorId: 'con_kd',
      segments: 1,
      parts: [
        expect.objectContaining({
          partNumber: 1,
          status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
          connectorId: 'con_kd',
          supplierMessageId: '4B01',
        }),
      ],
    });
    expect(d2).toMatchObject({ status: DeliveryStatus.DELIVERY_STATUS_DELIVERED, revision: 1, segments: 2 });
    expect(d2.parts.map((p) => [p.partNumber, p.supplierMessageId, p.status])).toEqual([
      [1, '4B02', DeliveryStatus.DELIVERY_STATUS_DELIVERED],
      [2, '4B03', DeliveryStatus.DELIVERY_STATUS_DELIVERED],
    ]);
    await h.waitCaughtUp(h.topics.receiptRaw.name);
    await waitForGroupCommitted({ groupId: h.deliveriesGroup, topic: h.topics.delivery.name });
    expect(h.deliveries.get(single)).toHaveLength(1);
    expect(h.deliveries.get(multi)).toHaveLength(1);
    expect(await h.row(multi)).toMatchObject({ final: true, revision: 1, parts_delivered: 2 });
    // the stored state knows each part's acceptance (the start of its receipt latency) and supplier id, once
    const states = await h.pool.query<{
      message_id: string;
      account_id: string;
      state: StoredState;
      segments: number;
    }>(
      `SELECT message_id, account_id, ${STORED_STATE} AS state, segments FROM dlr_messages
        WHERE message_id = ANY($1::uuid[])`,
      [[single, multi]],
    );
    for (const row of states.rows) {
      expect(row.segments).toBe(row.message_id === multi ? 2 : 1);
      for (const p of unpackState(row.state, row.message_id, row.account_id).parts) {
        expect(p.acceptedAt).toBeTypeOf('number');
        expect(p.supplierIds).toHaveLength(1);
      }
    }
    // every event in the timeline, once
    const kinds = async (id: string) =>
      (await h.getMessage({ messageId: id })).timeline.map((e) => e.event?.$case);
    expect(await kinds(single)).toEqual(['submitted', 'routed', 'dispatched', 'receipt', 'delivery']);
    expect(await kinds(multi)).toEqual([
      'submitted',
      'dispatched',
      'dispatched',
      'receipt',
      'receipt',
      'delivery',
    ]);
  });
});
