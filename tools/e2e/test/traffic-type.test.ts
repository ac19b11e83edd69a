// Issue 14 items 1 and 3 across real processes: admin, ingress and routing (libs/testing startHub) on a
// shared broker and database. An account created through the admin API with default traffic type OTP:
//   - refuses unpriced traffic from the start (refuse_unrated is on for new accounts) with ESME_RINVDSTADR,
//     and accepts it once a sell rate is created through the admin API (ingress follows config.changes.v1);
//   - its SMPP messages match a routing rule that only takes OTP traffic (the account default applies),
//     unless a message declares another type in service_type (PROMO: no rule matches, routing rejects it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccountState,
  BillingMode,
  ChargeOn,
  namespacedTopics,
  RateDirection,
  RouteStrategy,
  SmsRejected,
  SmsRouted,
  SmsSubmitted,
  topics,
  TrafficType,
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
import { acceptedId, Esme, type SubmitOutcome } from '../src/esme.js';
import { TopicReader } from '../src/topic-reader.js';

const UK = '447400123456';
const PASSWORD = 'Otp12345';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;
let esme: Esme | undefined;
let routed: TopicReader<SmsRouted> | undefined;
let rejected: TopicReader<SmsRejected> | undefined;
let submitted: TopicReader<SmsSubmitted> | undefined;
let accountId = '';

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    services: ['admin', 'ingress', 'routing'],
    simulator: false,
    readyTimeoutMs: 240_000,
  });
  const ns = namespacedTopics(topics, hub.namespace);
  routed = await TopicReader.start(testKafkaBrokers(), ns.routed);
  rejected = await TopicReader.start(testKafkaBrokers(), ns.rejected);
  submitted = await TopicReader.start(testKafkaBrokers(), ns.submitted);
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  const created = await admin.call('createAccount', {
    account: {
      id: '',
      name: 'e2e: OTP sender',
      state: AccountState.ACCOUNT_STATE_ACTIVE,
      billingMode: BillingMode.BILLING_MODE_POSTPAID,
      currencyCode: 'EUR',
      smppCredentials: [
        {
          systemId: 'e2eotp',
          passwordHash: '',
          allowedCidrs: [],
          maxBinds: 2,
          maxSubmitRate: 50,
          windowSize: 10,
          password: PASSWORD,
        },
      ],
      defaultTrafficType: TrafficType.TRAFFIC_TYPE_OTP,
      allowedSources: [],
      receiptIncludeText: false,
      messageIdFormat: '',
      revision: 0n,
      routingGroup: '',
      defaultCountry: 'GB',
      pricePlanId: '',
      defaultValiditySeconds: 0,
      chargeOn: ChargeOn.CHARGE_ON_SUBMIT,
      // refuse_unrated left unset: on for a new account.
    },
  });
  accountId = created.account?.id ?? '';
  expect(created.account?.refuseUnrated).toBe(true);
  esme = await waitFor(
    () => Esme.bind({ port: hub!.ports.smpp, systemId: 'e2eotp', password: PASSWORD }).catch(() => undefined),
    { timeoutMs: 30_000, intervalMs: 300, what: 'ingress to know the new account' },
  );
}, 300_000);

afterAll(async () => {
  await esme?.close();
  admin?.close();
  for (const r of [routed, rejected, submitted]) await r?.stop();
  await hub?.stop();
  await db?.drop();
}, 120_000);

const submitUk = (fields: Record<string, unknown> = {}): Promise<SubmitOutcome> =>
  esme!.submit({ destination_addr: UK, short_message: Buffer.from('Your code is 123456'), ...fields });

describe('an OTP account over SMPP, through ingress and routing', { timeout: 180_000 }, () => {
  it('is refused with ESME_RINVDSTADR until a sell rate exists, then accepted', async () => {
    const refused = await submitUk();
    expect(refused).toMatchObject({ ok: false, commandStatus: 0x0b, statusName: 'ESME_RINVDSTADR' });
    await admin!.call('createRate', {
      rate: {
        id: 'e2e-otp-sell-gb',
        direction: RateDirection.RATE_DIRECTION_SELL,
        partyId: accountId,
        destinationPrefix: '',
        mccMnc: '',
        countryCode: 'GB',
        trafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
        price: { currencyCode: 'EUR', minorUnits: 30_000n, scale: 6 },
        validFrom: new Date(Date.now() - 60_000),
        revision: 0n,
        pricePlanId: '',
        inbound: false,
      },
    });
    await waitFor(async () => (await submitUk()).ok, {
      timeoutMs: 30_000,
      intervalMs: 300,
      what: 'ingress to accept GB traffic once the sell rate is announced',
    });
  });

  it("matches an OTP-only routing rule with the account's default, and not when service_type says PROMO", async () => {
    await admin!.call('createRoutingRule', {
      routingRule: {
        id: 'e2e-otp-only',
        name: 'e2e: OTP traffic of the OTP account via sim-good',
        priority: 100,
        enabled: true,
        accountIds: [accountId],
        destinationPrefixes: [],
        mccMncs: [],
        trafficTypes: [TrafficType.TRAFFIC_TYPE_OTP],
        strategy: RouteStrategy.ROUTE_STRATEGY_PRIORITY,
        targets: [{ connectorId: 'sim-good', weight: 1 }],
        revision: 0n,
        accountGroups: [],
        countries: [],
        senders: [],
        strategyCurrency: '',
        block: false,
        blockReason: '',
      },
    });
    // Until routing has loaded the rule, messages are rejected (no rule for this account): wait for one routed.
    const otp = await waitFor(
      async () => {
        const id = acceptedId(await submitUk());
        const outcome = await waitFor(() => routed!.byKey(id)[0] ?? rejected!.byKey(id)[0], {
          timeoutMs: 30_000,
          what: `the routing of ${id}`,
        });
        return 'candidates' in outcome ? { id, outcome } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'an OTP message routed by the OTP-only rule' },
    );
    expect((await waitFor(() => submitted!.byKey(otp.id)[0])).trafficType).toBe(TrafficType.TRAFFIC_TYPE_OTP);
    expect(otp.outcome.candidates.map((c) => c.connectorId)).toEqual(['sim-good']);

    const promo = acceptedId(await submitUk({ service_type: 'PROMO' }));
    const promoSubmitted = await waitFor(() => submitted!.byKey(promo)[0], { what: 'the PROMO submission' });
    expect(promoSubmitted.trafficType).toBe(TrafficType.TRAFFIC_TYPE_MARKETING);
    const outcome = await waitFor(() => rejected!.byKey(promo)[0] ?? routed!.byKey(promo)[0], {
      timeoutMs: 30_000,
      what: 'the routing of the PROMO message',
    });
    expect('candidates' in outcome, 'a MARKETING message must not match the OTP-only rule').toBe(false);
  });
});
