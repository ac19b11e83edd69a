// Issue 19 part 2 across real processes: a subscriber replies STOP to a hub number (the SMSC simulator
// originates the MO), the inbound stage's keyword hook adds it to the account's opt-out list, and the next
// MT from that number gets a REJECTD receipt with err 017 over SMPP, never reaching a supplier; the
// customer still sees the STOP as an MO; HELP is answered with an MT from the hub number; START removes the
// opt-out and the next MT is delivered. Every change is in the audit log with the subscriber as actor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  HubNumberKind,
  namespacedTopics,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  SubmitChannel,
  topics,
} from '@smshub/contracts';
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
import { acceptedId, Esme, type Receipt } from '../src/esme.js';
import { TopicReader } from '../src/topic-reader.js';

const HUB_NUMBER = '447700900556';
const SUBSCRIBER = '447400123777';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;
let esme: Esme | undefined;
let submitted: TopicReader<SmsSubmitted> | undefined;
let rejected: TopicReader<SmsRejected> | undefined;
let routed: TopicReader<SmsRouted> | undefined;
let accountId = '';

/**
 * The subscriber's MO through `ops mo`, without blocking this process: with the blocking `ops` the test's
 * SMPP bind stood still for the whole tsx run (tens of seconds at load; a START once never came within the
 * tool's 120 s). Retried while the simulator has no bound session to send it on.
 */
function mo(text: string): Promise<string> {
  return waitFor(
    () =>
      hub!
        .opsAsync(['mo', '--from', `+${SUBSCRIBER}`, '--to', HUB_NUMBER, '--text', text])
        .catch(() => undefined),
    { timeoutMs: 60_000, intervalMs: 1000, what: `the simulator to send ${text}` },
  );
}

/** One MT to the subscriber, from the hub number unless `from` says otherwise; its receipt. */
async function mt(text: string, from = HUB_NUMBER): Promise<Receipt & { messageId: string }> {
  const numeric = /^[0-9]+$/.test(from);
  const id = acceptedId(
    await esme!.submit({
      source_addr_ton: numeric ? 1 : 5,
      source_addr_npi: numeric ? 1 : 0,
      source_addr: from,
      destination_addr: SUBSCRIBER,
      short_message: Buffer.from(text, 'ascii'),
    }),
  );
  return { ...(await esme!.receipt(id, 60_000)), messageId: id };
}

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    // Both simulated networks deliver everything at once: a DELIVRD receipt is certain.
    demoProfile: 'bench',
    services: ['admin', 'egress', 'ingress', 'inbound', 'routing', 'dlr', 'rating'],
    envFor: { inbound: { INBOUND_NUMBER_CACHE_MS: '0' } },
    readyTimeoutMs: 240_000,
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id::text FROM accounts WHERE system_id = $1`,
      [hub.secrets.demoSystemId],
    );
    accountId = rows[0]!.id;
  } finally {
    await client.end();
  }
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  await admin.call('createNumber', {
    number: {
      id: '',
      number: `+${HUB_NUMBER}`,
      kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
      accountId,
      keywords: [],
    },
  });
  const ns = namespacedTopics(topics, hub.namespace);
  submitted = await TopicReader.start(testKafkaBrokers(), ns.submitted);
  rejected = await TopicReader.start(testKafkaBrokers(), ns.rejected);
  routed = await TopicReader.start(testKafkaBrokers(), ns.routed);
  esme = await Esme.bind({
    port: hub.ports.smpp,
    systemId: hub.secrets.demoSystemId,
    password: hub.secrets.demoPassword,
  });
}, 300_000);

afterAll(async () => {
  await esme?.close().catch(() => undefined);
  await submitted?.stop();
  await rejected?.stop();
  await routed?.stop();
  admin?.close();
  await hub?.stop();
  await db?.drop();
}, 120_000);

// A whole hub on a shared machine: an MO through `ops mo` (tsx) and the hub can take tens of seconds.
describe('opt-out: reply STOP and see the next message rejected', { timeout: 300_000 }, () => {
  it('delivers an MT from the hub number before any STOP', async () => {
    const r = await waitFor(
      async () => {
        const got = await mt('Spring sale: 20% off');
        return got.stat === 'DELIVRD' ? got : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'a first MT delivered' },
    );
    expect(r.stat).toBe('DELIVRD');
  });

  it('STOP: the customer sees the MO, and the next MT from that number is REJECTD err 017, sent to no supplier', async () => {
    // egress binds to the simulators a moment after it is ready: the MO waits for that.
    await mo('Stop');
    await waitFor(() => esme!.unmatched.find((t) => t === 'Stop'), {
      timeoutMs: 60_000,
      what: 'the STOP delivered to the customer as an MO',
    });
    // The opt-out is stored before it is announced; routing applies the announcement.
    const blocked = await waitFor(
      async () => {
        const got = await mt('Last chance: 30% off');
        return got.stat === 'REJECTD' ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'an MT rejected for the opt-out' },
    );
    expect(blocked.err).toBe('017');
    const event = await waitFor(
      () => rejected!.records.map((r) => r.value).find((v) => v.message?.messageId === blocked.messageId),
      { what: 'the rejection on sms.rejected.v1' },
    );
    expect(event.error).toMatchObject({ code: 'OPTED_OUT', receiptError: 17 });

    const listed = await admin!.call('listOptOuts', {
      accountId,
      msisdn: SUBSCRIBER,
      pageSize: 0,
      pageToken: '',
    });
    expect(listed.optOuts).toMatchObject([
      { scopeNumber: HUB_NUMBER, keyword: 'STOP', actor: `+${SUBSCRIBER}` },
    ]);
    const audit = await admin!.call('listAuditEvents', {
      pageSize: 10,
      pageToken: '',
      tokenId: '',
      resourceKind: 'opt_out',
      resourceId: `${accountId}/${SUBSCRIBER}/${HUB_NUMBER}`,
      method: '',
    });
    expect(audit.events[0]).toMatchObject({
      method: 'KeywordOptOut',
      tokenName: `+${SUBSCRIBER}`,
      service: 'inbound',
    });
  });

  it('another sender of the account still reaches the subscriber (the STOP was for that number)', async () => {
    expect((await mt('Your code is 1234', 'ACME')).stat).toBe('DELIVRD');
  });

  it('HELP is answered with an MT from the hub number, marked as a keyword reply', async () => {
    await mo('help');
    const reply = await waitFor(
      () =>
        submitted!.records
          .map((r) => r.value)
          .find(
            (m) =>
              m.channel === SubmitChannel.SUBMIT_CHANNEL_KEYWORD_REPLY &&
              m.destination?.address === SUBSCRIBER,
          ),
      { timeoutMs: 120_000, what: 'the HELP reply on sms.submitted.v1' },
    );
    expect(reply.accountId).toBe(accountId);
    expect(reply.source?.address).toBe(HUB_NUMBER);
    // Routed to a supplier although the subscriber opted out of that number: its own reply is exempt.
    await waitFor(() => routed!.records.find((r) => r.value.message?.messageId === reply.messageId), {
      timeoutMs: 120_000,
      what: 'the HELP reply routed',
    });
  });

  it('START removes the opt-out: the next MT from the number is delivered', async () => {
    await mo('START');
    const delivered = await waitFor(
      async () => {
        const got = await mt('Welcome back');
        return got.stat === 'DELIVRD' ? got : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'an MT delivered after START' },
    );
    expect(delivered.stat).toBe('DELIVRD');
    const listed = await admin!.call('listOptOuts', {
      accountId,
      msisdn: SUBSCRIBER,
      pageSize: 0,
      pageToken: '',
    });
    expect(listed.optOuts).toEqual([]);
  });
});
