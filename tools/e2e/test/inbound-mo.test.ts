// Issue 19 part 1 across real processes: the SMSC simulator originates MO (`ops mo`, its control endpoint),
// egress receives them from the simulated network (sms.mo.v1), the inbound stage resolves the hub number
// assigned through the admin API and reassembles long messages (sms.inbound.v1), ingress stores and
// forwards them to the customer's receiver bind as deliver_sm with esm_class 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  HubNumberKind,
  MessageServiceClient,
  namespacedTopics,
  SmsInbound,
  topics,
  type GetMessageResponse,
} from '@smshub/contracts';
import { connectSmpp, messageText, type Pdu, type SmppSession } from '@smshub/smpp';
import {
  createTestDatabase,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';
import { TopicReader } from '../src/topic-reader.js';

const HUB_NUMBER = '447700900555';
const UNASSIGNED = '447700900999';
const SUBSCRIBER = '+447700900123';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;
let inbound: TopicReader<SmsInbound> | undefined;
let receiver: Receiver | undefined;
let demoAccountId = '';

/** The customer's receiver bind: every deliver_sm it gets. */
class Receiver {
  readonly got: Pdu[] = [];
  private session: SmppSession | undefined;

  async bind(h: Hub): Promise<void> {
    this.session = await connectSmpp({
      host: '127.0.0.1',
      port: h.ports.smpp,
      systemId: h.secrets.demoSystemId,
      password: h.secrets.demoPassword,
      bindType: 'receiver',
      enquireLinkMs: 0,
      responseTimeoutMs: 15_000,
      handlers: { deliver_sm: (pdu) => void this.got.push(pdu) },
    });
  }

  /** deliver_sm that are MO (esm_class message type 0), with their text. */
  mo(): { esmClass: number; from: string; to: string; text: string; raw: Buffer }[] {
    return this.got
      .filter((p) => ((p.esm_class ?? 0) & 0x3c) === 0)
      .map((p) => ({
        esmClass: p.esm_class ?? 0,
        from: p.source_addr ?? '',
        to: p.destination_addr ?? '',
        text: messageText(p) ?? '',
        raw: Buffer.from(p.short_message ?? p.message_payload ?? Buffer.alloc(0)),
      }));
  }

  async close(): Promise<void> {
    await this.session?.close().catch(() => undefined);
    this.session = undefined;
  }
}

async function metric(h: Hub, service: string, line: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.ports.http[service]}/metrics`);
  const text = await res.text();
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.split(' ')[1]) : 0;
}

/** `ops mo` without blocking this process (its receiver bind must go on answering while the tool runs). */
function mo(h: Hub, args: string[]): Promise<string> {
  return h.opsAsync(['mo', '--from', SUBSCRIBER, ...args]);
}

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    services: ['admin', 'egress', 'ingress', 'inbound', 'dlr'],
    envFor: { inbound: { INBOUND_REASSEMBLY_TIMEOUT_MS: '3000', INBOUND_NUMBER_CACHE_MS: '0' } },
    readyTimeoutMs: 240_000,
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id::text FROM accounts WHERE system_id = $1`,
      [hub.secrets.demoSystemId],
    );
    demoAccountId = rows[0]!.id;
  } finally {
    await client.end();
  }
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  await admin.call('createNumber', {
    number: {
      id: '',
      number: `+${HUB_NUMBER}`,
      kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
      accountId: demoAccountId,
      keywords: [],
    },
  });
  inbound = await TopicReader.start(testKafkaBrokers(), namespacedTopics(topics, hub.namespace).inbound);
  receiver = new Receiver();
  await receiver.bind(hub);
  // egress binds to the simulators a moment after it is ready: the first MO waits for that.
  await waitFor(() => mo(hub!, ['--to', HUB_NUMBER, '--text', 'hello hub']).catch(() => undefined), {
    timeoutMs: 60_000,
    intervalMs: 1000,
    what: 'the simulator to send the first MO',
  });
}, 300_000);

afterAll(async () => {
  await receiver?.close();
  await inbound?.stop();
  admin?.close();
  await hub?.stop();
  await db?.drop();
});

// Each step runs `ops mo` (a tsx process) and waits up to 60 s for the hub: more than the default 60 s.
describe('inbound messages (MO)', { timeout: 180_000 }, () => {
  it('an MO to an assigned number reaches the customer as deliver_sm esm_class 0 with its text', async () => {
    const got = await waitFor(() => receiver!.mo().find((m) => m.text === 'hello hub'), {
      timeoutMs: 60_000,
      what: 'the MO on the receiver bind',
    });
    expect(got.esmClass).toBe(0);
    expect(got.from).toBe(SUBSCRIBER.slice(1));
    expect(got.to).toBe(HUB_NUMBER);
    const published = inbound!.records.map((r) => r.value).find((v) => v.text === 'hello hub');
    expect(published?.accountId).toBe(demoAccountId);
  });

  it("the MO is a message of its own in dlr's store, with an inbound timeline event", async () => {
    const published = inbound!.records.map((r) => r.value).find((v) => v.text === 'hello hub')!;
    const client = new MessageServiceClient(`127.0.0.1:${hub!.ports.messages}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${hub!.secrets.adminToken}`);
    const get = () =>
      new Promise<GetMessageResponse | undefined>((resolve) =>
        client.getMessage(
          { messageId: published.messageId, customerMessageId: '', accountId: '' },
          md,
          (err, res) => resolve(err ? undefined : res),
        ),
      );
    try {
      const res = await waitFor(get, { timeoutMs: 60_000, what: "the MO in dlr's MessageService" });
      expect(res.timeline.map((e) => e.event?.$case)).toEqual(['inbound']);
      expect(res.message?.context?.accountId).toBe(demoAccountId);
      expect(res.message?.context?.source?.address).toBe(SUBSCRIBER.slice(1));
      expect(res.message?.final).toBe(true);
    } finally {
      client.close();
    }
  });

  it('a long MO in three UDH parts arrives as one message', async () => {
    const text =
      'This reply is long enough to be sent in three parts by the handset, and the hub joins them.';
    expect(await mo(hub!, ['--to', HUB_NUMBER, '--text', text, '--parts', '3'])).toContain('3 part(s)');
    const got = await waitFor(() => receiver!.mo().find((m) => m.text === text), {
      timeoutMs: 60_000,
      what: 'the reassembled MO',
    });
    expect(got.esmClass).toBe(0);
    const published = inbound!.records.map((r) => r.value).find((v) => v.text === text);
    expect(published?.parts).toBe(3);
  });

  it('parts whose siblings never arrive are passed on as parts after the timeout', async () => {
    const text = 'AAAAAAAAAA-BBBBBBBBBB-CCCCCCCCCC';
    await mo(hub!, ['--to', HUB_NUMBER, '--text', text, '--parts', '3', '--only-parts', '1,3']);
    const parts = await waitFor(
      () => {
        const ps = receiver!.mo().filter((m) => m.esmClass === 0x40 && /AAAA|CCCC/.test(m.text));
        return ps.length >= 2 ? ps : undefined;
      },
      { timeoutMs: 60_000, what: 'two lone parts' },
    );
    // Each keeps its UDH (reference, 3 parts, its number), so the customer can tell what is missing.
    expect(parts.map((p) => [p.raw[4], p.raw[5]]).sort()).toEqual([
      [3, 1],
      [3, 3],
    ]);
  });

  it('an MO to an unassigned number is dropped and counted', async () => {
    const before = await metric(hub!, 'inbound', 'smshub_inbound_dropped_total{reason="unassigned_number"}');
    await mo(hub!, ['--to', UNASSIGNED, '--text', 'anyone there?']);
    await waitFor(
      async () =>
        (await metric(hub!, 'inbound', 'smshub_inbound_dropped_total{reason="unassigned_number"}')) >
          before || undefined,
      { timeoutMs: 60_000, what: 'the unassigned-number drop counted' },
    );
    // Then a later MO to the assigned number arrives, and nothing for the unassigned one came before it.
    await mo(hub!, ['--to', HUB_NUMBER, '--text', 'after the drop']);
    await waitFor(() => receiver!.mo().find((m) => m.text === 'after the drop'), {
      timeoutMs: 60_000,
      what: 'the later MO',
    });
    expect(receiver!.mo().some((m) => m.to === UNASSIGNED)).toBe(false);
  });

  it('an MO that arrives while ingress is down is delivered once it is back', async () => {
    await receiver!.close();
    await hub!.process('ingress').kill();
    await mo(hub!, ['--to', HUB_NUMBER, '--text', 'while you were out']);
    await waitFor(() => inbound!.records.find((r) => r.value.text === 'while you were out'), {
      timeoutMs: 60_000,
      what: 'the MO published on sms.inbound.v1',
    });
    hub!.process('ingress').start();
    await hub!.process('ingress').waitReady(120_000);
    receiver = new Receiver();
    await receiver.bind(hub!);
    const got = await waitFor(() => receiver!.mo().find((m) => m.text === 'while you were out'), {
      timeoutMs: 60_000,
      what: 'the MO after the restart',
    });
    expect(got.esmClass).toBe(0);
  });
});
