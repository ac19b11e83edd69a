// Issue 19 part 3 across real processes (libs/testing startHub: ingress and the scheduler, on a shared broker
// and database): a message with schedule_delivery_time is held by the hub and released onto
// sms.submitted.v1 at its time; query_sm says SCHEDULED while held (ENROUTE on a 3.4 bind), DELETED once
// cancelled; cancel_sm and replace_sm work on held messages and answer ESME_RCANCELFAIL / ESME_RREPLACEFAIL
// for released ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namespacedTopics, topics, type SmsSubmitted } from '@smshub/contracts';
import {
  CommandStatus as S,
  connectSmpp,
  MessageState,
  SmppError,
  type PduFields,
  type SmppSession,
} from '@smshub/smpp';
import {
  createTestDatabase,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { TopicReader } from '../src/topic-reader.js';

let db: TestDatabase;
let hub: Hub | undefined;
let released: TopicReader<SmsSubmitted> | undefined;
let v50: SmppSession | undefined;
let v34: SmppSession | undefined;

const DEST = '447400123456';

/** Relative SMPP time of `s` seconds (< 60). */
const inSeconds = (s: number): string => `0000000000${String(s).padStart(2, '0')}000R`;

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    services: ['ingress', 'scheduler'],
    simulator: false,
    readyTimeoutMs: 240_000,
  });
  released = await TopicReader.start(testKafkaBrokers(), namespacedTopics(topics, hub.namespace).submitted);
  const bind = (interfaceVersion: number) =>
    connectSmpp({
      host: '127.0.0.1',
      port: hub!.ports.smpp,
      bindType: 'transceiver',
      systemId: hub!.secrets.demoSystemId,
      password: hub!.secrets.demoPassword,
      interfaceVersion,
      enquireLinkMs: 0,
      responseTimeoutMs: 15_000,
    });
  v50 = await bind(0x50);
  v34 = await bind(0x34);
}, 300_000);

afterAll(async () => {
  v50?.destroy();
  v34?.destroy();
  await released?.stop().catch(() => undefined);
  await hub?.stop().catch(() => undefined);
  await db?.drop().catch(() => undefined);
}, 60_000);

async function submit(extra: PduFields): Promise<string> {
  const r = await v50!.submit({
    source_addr: 'ACME',
    source_addr_ton: 5,
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: DEST,
    short_message: Buffer.from('held text'),
    registered_delivery: 1,
    ...extra,
  });
  return r.message_id as string;
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return S.ESME_ROK;
  } catch (e) {
    if (e instanceof SmppError) return e.commandStatus;
    throw e;
  }
}

async function state(s: SmppSession, id: string): Promise<number> {
  const r = await s.query({ message_id: id, source_addr: 'ACME', source_addr_ton: 5 });
  return r.message_state as number;
}

const releasesOf = (id: string) => released!.records.filter((r) => r.value.customerMessageId === id);

describe('messages the hub holds', () => {
  it('releases a message at its schedule; query_sm says SCHEDULED, then not; cancel and replace then fail', async () => {
    const before = Date.now();
    const id = await submit({ schedule_delivery_time: inSeconds(6) });
    // Held: SCHEDULED on 5.0, ENROUTE on 3.4 (3.4 has no scheduled state).
    await waitFor(async () => (await state(v50!, id)) === MessageState.SCHEDULED, {
      what: 'SCHEDULED',
      timeoutMs: 10_000,
    });
    expect(await state(v34!, id)).toBe(MessageState.ENROUTE);
    const r = await waitFor(() => releasesOf(id)[0], { what: 'release', timeoutMs: 30_000 });
    expect(r.value.releasedAt!.getTime()).toBeGreaterThanOrEqual(before + 6_000 - 1_000);
    expect(r.value.releasedAt!.getTime()).toBeLessThan(r.value.holdUntil!.getTime() + 2_000);
    expect(r.value.scheduleDeliveryTimeRaw).toBe('');
    expect(await state(v50!, id)).toBe(MessageState.ENROUTE);
    // Already released: nothing to cancel or replace.
    expect(
      await status(v50!.request('cancel_sm', { message_id: id, source_addr: 'ACME', source_addr_ton: 5 })),
    ).toBe(S.ESME_RCANCELFAIL);
    expect(
      await status(
        v50!.request('replace_sm', {
          message_id: id,
          source_addr: 'ACME',
          source_addr_ton: 5,
          short_message: Buffer.from('too late'),
        }),
      ),
    ).toBe(S.ESME_RREPLACEFAIL);
  }, 90_000);

  it('cancel_sm of a held message: never released, DELETED; a second cancel fails', async () => {
    const id = await submit({ schedule_delivery_time: inSeconds(8) });
    await waitFor(async () => (await state(v50!, id)) === MessageState.SCHEDULED, { what: 'SCHEDULED' });
    expect(
      await status(v50!.request('cancel_sm', { message_id: id, source_addr: 'ACME', source_addr_ton: 5 })),
    ).toBe(S.ESME_ROK);
    expect(await state(v50!, id)).toBe(MessageState.DELETED);
    expect(
      await status(v50!.request('cancel_sm', { message_id: id, source_addr: 'ACME', source_addr_ton: 5 })),
    ).toBe(S.ESME_RCANCELFAIL);
    // A later message, due after the cancelled one's time, is released: the cancelled one was not.
    const later = await submit({ schedule_delivery_time: inSeconds(10) });
    await waitFor(() => releasesOf(later)[0], { what: 'release of the later message', timeoutMs: 30_000 });
    expect(releasesOf(id)).toHaveLength(0);
  }, 90_000);

  it('cancel_sm right after the submit_sm_resp cancels the held message (the scheduler may not have read it yet)', async () => {
    const id = await submit({ schedule_delivery_time: inSeconds(6) });
    expect(
      await status(v50!.request('cancel_sm', { message_id: id, source_addr: 'ACME', source_addr_ton: 5 })),
    ).toBe(S.ESME_ROK);
    expect(await state(v50!, id)).toBe(MessageState.DELETED);
    const later = await submit({ schedule_delivery_time: inSeconds(8) });
    await waitFor(() => releasesOf(later)[0], { what: 'release of the later message', timeoutMs: 30_000 });
    expect(releasesOf(id)).toHaveLength(0);
  }, 90_000);

  it('cancel_sm by destination cancels every held message of the account to it', async () => {
    const dest = '447400123999';
    const a = await submit({ schedule_delivery_time: inSeconds(40), destination_addr: dest });
    const b = await submit({ schedule_delivery_time: inSeconds(45), destination_addr: dest });
    for (const id of [a, b])
      await waitFor(async () => (await state(v50!, id)) === MessageState.SCHEDULED, { what: 'SCHEDULED' });
    expect(
      await status(
        v50!.request('cancel_sm', {
          message_id: '',
          source_addr: 'ACME',
          source_addr_ton: 5,
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: dest,
        }),
      ),
    ).toBe(S.ESME_ROK);
    expect(await state(v50!, a)).toBe(MessageState.DELETED);
    expect(await state(v50!, b)).toBe(MessageState.DELETED);
  }, 60_000);

  it('replace_sm changes the text and time of a held message', async () => {
    const id = await submit({ schedule_delivery_time: inSeconds(50) });
    await waitFor(async () => (await state(v50!, id)) === MessageState.SCHEDULED, { what: 'SCHEDULED' });
    const changedAt = Date.now();
    expect(
      await status(
        v50!.request('replace_sm', {
          message_id: id,
          source_addr: 'ACME',
          source_addr_ton: 5,
          schedule_delivery_time: inSeconds(3),
          short_message: Buffer.from('replaced text'),
        }),
      ),
    ).toBe(S.ESME_ROK);
    const r = await waitFor(() => releasesOf(id)[0], { what: 'release after replace', timeoutMs: 30_000 });
    expect(Buffer.from(r.value.shortMessage).toString()).toBe('replaced text');
    // Released at the new time (3 s), not the old one (50 s).
    expect(r.value.releasedAt!.getTime() - changedAt).toBeLessThan(20_000);
    // A malformed new schedule is refused as such.
    expect(
      await status(
        v50!.request('replace_sm', {
          message_id: id,
          source_addr: 'ACME',
          source_addr_ton: 5,
          schedule_delivery_time: '0000000000AB000R',
        }),
      ),
    ).toBe(S.ESME_RINVSCHED);
  }, 90_000);
});
