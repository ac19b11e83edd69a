// End-to-end over the whole running hub (issue #8): every service and the SMSC simulator as real processes
// (libs/testing startHub) with the demo configuration, a real SMPP client as the customer, and an OTLP
// receiver standing in for the tracing collector. What is asserted is what a customer, finance or an
// operator would see: submit_sm_resp ids, deliver_sm receipts, billing.rated.v1 records, hubctl's timeline,
// traces.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BillingRated,
  namespacedTopics,
  RatedStatus,
  SmsDispatched,
  SmsRejected,
  SmsSubmitted,
  topics,
} from '@smshub/contracts';
import {
  createTestDatabase,
  repoRoot,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { acceptedId, Esme } from '../src/esme.js';
import { OtlpReceiver } from '../src/otlp-receiver.js';
import { TopicReader } from '../src/topic-reader.js';

// A UK number (demo sell rate GB: 0.040000 EUR per segment).
const UK = '447400123456';

let db: TestDatabase;
let hub: Hub | undefined;
let otlp: OtlpReceiver;
let esme: Esme | undefined;
let ratedReader: TopicReader<BillingRated> | undefined;
let rejectedReader: TopicReader<SmsRejected> | undefined;
let dispatchedReader: TopicReader<SmsDispatched> | undefined;
let submittedReader: TopicReader<SmsSubmitted> | undefined;

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  otlp = await OtlpReceiver.start();
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    demoProfile: 'bench',
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_BSP_SCHEDULE_DELAY: '200' },
  });
  ratedReader = await TopicReader.start(testKafkaBrokers(), ns().rated);
  rejectedReader = await TopicReader.start(testKafkaBrokers(), ns().rejected);
  dispatchedReader = await TopicReader.start(testKafkaBrokers(), ns().dispatched);
  submittedReader = await TopicReader.start(testKafkaBrokers(), ns().submitted);
  esme = await Esme.bind({
    port: hub.ports.smpp,
    systemId: hub.secrets.demoSystemId,
    password: hub.secrets.demoPassword,
  });
}, 240_000);

afterAll(async () => {
  await esme?.close();
  await ratedReader?.stop();
  await rejectedReader?.stop();
  await dispatchedReader?.stop();
  await submittedReader?.stop();
  await hub?.stop();
  await otlp?.stop();
  await db?.drop();
}, 120_000);

/** Hub ids of every message accepted in this file (the billing test counts their records). */
const accepted: string[] = [];

function ns() {
  return namespacedTopics(topics, hub!.namespace);
}
function rated(): TopicReader<BillingRated> {
  if (!ratedReader) throw new Error('no billing.rated.v1 reader');
  return ratedReader;
}
function rejected(): TopicReader<SmsRejected> {
  if (!rejectedReader) throw new Error('no sms.rejected.v1 reader');
  return rejectedReader;
}
function dispatched(): TopicReader<SmsDispatched> {
  if (!dispatchedReader) throw new Error('no sms.dispatched.v1 reader');
  return dispatchedReader;
}

interface CliResult {
  stdout: string;
  json: unknown;
}

/** Runs the real hubctl CLI (its bin) against this hub; throws with its output when it fails. */
function hubctl(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'tools/hubctl/bin/hubctl.mjs'), ...args], {
    cwd: repoRoot(),
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      HUBCTL_ADMIN_ADDR: `127.0.0.1:${hub!.ports.admin}`,
      HUBCTL_MESSAGES_ADDR: `127.0.0.1:${hub!.ports.messages}`,
      HUBCTL_SETTLEMENT_ADDR: `127.0.0.1:${hub!.ports.settlement}`,
      HUBCTL_TOKEN: hub!.secrets.adminToken,
    },
  });
  if (r.status !== 0)
    throw new Error(`hubctl ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}${r.stdout}`);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { stdout: r.stdout, json };
}

/** The kinds of a timeline in hubctl's JSON (the proto3 JSON of GetMessageResponse), in order. */
function timelineKinds(json: unknown): string[] {
  const timeline = (json as { timeline?: Array<Record<string, unknown>> } | undefined)?.timeline ?? [];
  const kinds = ['submitted', 'routed', 'rejected', 'dispatched', 'receipt', 'delivery', 'rated'];
  return timeline.map((e) => kinds.find((k) => e[k] !== undefined) ?? 'unknown');
}

function customer(): Esme {
  if (!esme) throw new Error('no SMPP bind');
  return esme;
}

describe('a customer over SMPP', () => {
  it('gets a hub id and a DELIVRD receipt with that id for GSM7, UCS2 and long messages', async () => {
    const gsm7 = acceptedId((await customer().submitText(UK, 'Your code is 123456 @ £5'))[0]!);
    const ucs2 = await customer().submitText(UK, 'Код подтверждения: 4711 ✓');
    expect(ucs2).toHaveLength(1);
    const ucs2Id = acceptedId(ucs2[0]!);
    const long = await customer().submitText(UK, 'A long message. '.repeat(20));
    expect(long).toHaveLength(3);
    const longIds = long.map(acceptedId);

    const ids = [gsm7, ucs2Id, ...longIds];
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (const id of ids) {
      const receipt = await customer().receipt(id, 60_000);
      expect(receipt.id).toBe(id);
      expect(receipt.stat, receipt.text).toBe('DELIVRD');
    }
    accepted.push(...ids);
    expect(hub?.crashes()).toEqual([]);
  });

  it('gets a REJECTD receipt for a text the firewall blocks, and the message is never dispatched', async () => {
    const blocked = acceptedId((await customer().submitText(UK, 'Win big at the casino tonight'))[0]!);
    const receipt = await customer().receipt(blocked);
    expect(receipt.stat).toBe('REJECTD');
    const rejection = await waitFor(() => rejected().byKey(blocked)[0], {
      what: 'the sms.rejected.v1 record',
    });
    expect(rejection.ruleId).toBe('demo-keyword-casino');
    accepted.push(blocked);

    // A message sent after it is dispatched; by then egress would have seen the blocked one too.
    const after = acceptedId((await customer().submitText(UK, 'After the blocked one'))[0]!);
    await waitFor(() => dispatched().records.some((r) => r.value.context?.messageId === after), {
      timeoutMs: 30_000,
      what: 'the dispatch of the next message',
    });
    expect((await customer().receipt(after)).stat).toBe('DELIVRD');
    accepted.push(after);
    expect(dispatched().records.filter((r) => r.value.context?.messageId === blocked)).toEqual([]);
  });
});

describe('an operator', () => {
  it('reads a message timeline with hubctl: submitted, routed, dispatched, delivered', async () => {
    const id = acceptedId((await customer().submitText(UK, 'Where did my message go?'))[0]!);
    expect((await customer().receipt(id)).stat).toBe('DELIVRD');
    accepted.push(id);
    // The timeline is written by dlr as it consumes; the receipt can overtake the last rows.
    const shown = await waitFor(
      () => {
        const out = hubctl(['messages', 'get', id, '--output', 'json']);
        const kinds = timelineKinds(out.json);
        return ['submitted', 'routed', 'dispatched', 'delivery'].every((k) => kinds.includes(k)) && out;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: `hubctl to show the whole timeline of ${id}` },
    );
    const json = shown.json as {
      message?: { context?: { messageId?: string }; status?: string; connectorId?: string };
    };
    expect(json.message?.context?.messageId).toBe(id);
    expect(json.message?.status).toBe('DELIVERY_STATUS_DELIVERED');
    expect(json.message?.connectorId).toBe('sim-poor');
    const kinds = timelineKinds(shown.json);
    expect(kinds.indexOf('submitted')).toBeLessThan(kinds.indexOf('routed'));
    expect(kinds.indexOf('routed')).toBeLessThan(kinds.indexOf('dispatched'));
    expect(kinds.lastIndexOf('delivery')).toBeGreaterThan(kinds.indexOf('dispatched'));

    // The table form names the same message.
    const table = hubctl(['messages', 'get', id]);
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain('sim-poor');
  });
});

describe('tracing', () => {
  it('one message is one trace, with spans from ingress, routing, egress, dlr and rating', async () => {
    const id = acceptedId((await customer().submitText(UK, 'Trace me'))[0]!);
    expect((await customer().receipt(id)).stat).toBe('DELIVRD');
    accepted.push(id);
    const submitted = await waitFor(() => submittedReader!.byKeyRecords(id)[0], {
      what: 'the sms.submitted.v1 record',
    });
    const traceId = submitted.traceId;
    expect(traceId, 'ingress put a traceparent header on sms.submitted.v1').toMatch(/^[0-9a-f]{32}$/);
    // The same trace travels on every record about this message.
    const rec = await waitFor(() => ratedReader?.byKeyRecords(id)[0], {
      timeoutMs: 30_000,
      what: 'the rated record',
    });
    expect(rec.traceId, 'billing.rated.v1 carries the trace of the submission').toBe(traceId);

    // service.name of each process's telemetry resource.
    const services = ['ingress', 'routing', 'egress', 'dlr', 'rating'].map((s) => `smshub-${s}`);
    const spans = await waitFor(
      () => {
        const got = otlp.trace(traceId!);
        return services.every((s) => got.some((span) => span.service === s)) && got;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: `spans of every service in trace ${traceId}` },
    ).catch((err: Error) => {
      const got = otlp.trace(traceId!);
      throw new Error(
        `${err.message}; spans in the trace: ${got.map((s) => `${s.service}:${s.name}`).join(', ') || 'none'}; ` +
          `services that exported any span: ${[...new Set(otlp.spans.map((s) => s.service))].join(', ') || 'none'}`,
      );
    });
    expect(otlp.problems).toEqual([]);
    // One trace: exactly one root (the ingress span), every other span's parent is in the trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => s.service)).toEqual(['smshub-ingress']);
    for (const s of spans)
      if (s.parentSpanId) expect(ids.has(s.parentSpanId), `${s.service}:${s.name}'s parent`).toBe(true);
  });
});

describe('finance', () => {
  it('billing.rated.v1 carries exactly one record per accepted message, with the demo prices', async () => {
    expect(accepted.length).toBeGreaterThan(0);
    // Every receipt is in (so rating has seen every final status); wait until rating has consumed all of
    // its input and the reader has read all of rating's output, then count.
    for (const id of accepted) await customer().receipt(id);
    const group = `${hub!.namespace}.smshub-rating`;
    await waitFor(
      async () =>
        (await rated().groupConsumedAll(group, ns().delivery.name)) &&
        (await rated().groupConsumedAll(group, ns().dispatched.name)) &&
        (await rated().caughtUp()),
      {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'rating to consume every delivery and the reader to catch up',
      },
    );
    expect(rated().undecodable).toEqual([]);
    const keys = rated().records.map((r) => r.key);
    expect(keys.sort()).toEqual([...accepted].sort());

    // Rated amounts are whole cents (the currency's exponent, docs/finance.md).
    const euros = (cents: number) => ({ currencyCode: 'EUR', minorUnits: BigInt(cents), scale: 2 });
    for (const id of accepted) {
      const [record] = rated().byKey(id);
      expect(record?.messageId).toBe(id);
      expect(record?.accountId).toMatch(/^[0-9a-f-]{36}$/);
      const rejectedByHub = rejected().byKey(id).length > 0;
      if (rejectedByHub) {
        expect(record?.status).toBe(RatedStatus.RATED_STATUS_NOT_CHARGED);
        expect(record?.sell?.minorUnits ?? 0n).toBe(0n);
        expect(record?.buy?.minorUnits ?? 0n).toBe(0n);
        continue;
      }
      // Least cost: sim-poor (buy GB EUR 0.02) before sim-good (0.03); the account pays EUR 0.04 (ops demo rates).
      expect(record).toMatchObject({
        status: RatedStatus.RATED_STATUS_CHARGED,
        connectorId: 'sim-poor',
        supplierId: 'demo-poor-telecom',
        destinationCountry: 'GB',
        segments: 1,
        sell: euros(4),
        buy: euros(2),
        margin: euros(2),
        sellRateId: 'demo-sell-gb',
        buyRateId: 'sim-poor-buy-gb',
      });
    }
  });
});
