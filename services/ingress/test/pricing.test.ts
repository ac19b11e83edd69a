// Issue 14 items 1 and 3 at ingress, over real SMPP, Kafka and PostgreSQL: the traffic type a message
// carries on sms.submitted.v1, and refuse_unrated (no sell rate -> ESME_RINVDSTADR) with the sell rates
// following config.changes.v1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeAction, ConfigChange, ResourceKind, TrafficType } from '@smshub/contracts';
import { CommandStatus as S, SmppError, type SmppSession } from '@smshub/smpp';
import { uniqueName, waitFor } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';

const UK = '447400123456';
const DE = '4915112345678';

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return S.ESME_ROK;
  } catch (e) {
    if (e instanceof SmppError) return e.commandStatus;
    throw e;
  }
}

describe('ingress: traffic type and unbilled traffic', () => {
  const h = new Harness();
  let r: Replica;
  let strictId = '';

  const submit = (s: SmppSession, to: string, extra: Record<string, unknown> = {}) =>
    s.submit({
      source_addr: 'ACME',
      source_addr_ton: 5,
      destination_addr: to,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      short_message: Buffer.from('hello'),
      ...extra,
    });

  async function addRate(
    owner: 'account' | 'plan',
    ownerId: string,
    match: { prefix?: string; country?: string },
  ) {
    await h.pool.query(
      `INSERT INTO rating_rates (id, owner_kind, owner_id, prefix, country, price_amount, currency, effective_from)
       VALUES ($1, $2, $3, $4, $5, 40000, 'EUR', now() - interval '1 day')`,
      [uniqueName('rate'), owner, ownerId, match.prefix ?? null, match.country ?? null],
    );
  }

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    r = await h.startReplica();
    await h.pool.query(`INSERT INTO rating_price_plans (id, name) VALUES ('std', 'standard')`);
    await h.addAccount({ systemId: 'otp', password: 'pw', defaultTrafficType: 'OTP' });
    strictId = await h.addAccount({ systemId: 'strict', password: 'pw', refuseUnrated: true });
    const planned = await h.addAccount({
      systemId: 'planned',
      password: 'pw',
      refuseUnrated: true,
      pricePlanId: 'std',
    });
    await h.addAccount({ systemId: 'lenient', password: 'pw', refuseUnrated: false });
    await addRate('account', strictId, { prefix: '4474' });
    await addRate('plan', 'std', { country: 'DE' });
    expect(planned).toBeTruthy();
    await r.ingress.sellRates.reload();
  });
  afterAll(() => h.teardown());

  it("applies the account's default traffic type, and a service_type keyword overrides it per message", async () => {
    const s = await h.bind(r.port, { systemId: 'otp', password: 'pw' });
    const plain = (await submit(s, UK)).message_id as string;
    const promo = (await submit(s, UK, { service_type: 'PROMO' })).message_id as string;
    const cmt = (await submit(s, UK, { service_type: 'CMT' })).message_id as string;
    expect((await h.waitSubmitted(plain)).trafficType).toBe(TrafficType.TRAFFIC_TYPE_OTP);
    const p = await h.waitSubmitted(promo);
    expect([p.trafficType, p.serviceType]).toEqual([TrafficType.TRAFFIC_TYPE_MARKETING, '']);
    const c = await h.waitSubmitted(cmt);
    expect([c.trafficType, c.serviceType]).toEqual([TrafficType.TRAFFIC_TYPE_OTP, 'CMT']);
  });

  it('refuses a submit with no sell rate with ESME_RINVDSTADR, accepts one with a rate (own or the plan)', async () => {
    const strict = await h.bind(r.port, { systemId: 'strict', password: 'pw' });
    expect(await status(submit(strict, UK))).toBe(S.ESME_ROK);
    expect(await status(submit(strict, `+${UK}`))).toBe(S.ESME_ROK);
    expect(await status(submit(strict, DE))).toBe(S.ESME_RINVDSTADR);
    expect(await status(submit(strict, '447500123456'))).toBe(S.ESME_RINVDSTADR);
    const planned = await h.bind(r.port, { systemId: 'planned', password: 'pw' });
    expect(await status(submit(planned, DE))).toBe(S.ESME_ROK);
    expect(await status(submit(planned, UK))).toBe(S.ESME_RINVDSTADR);
  });

  it('accepts unpriced traffic of an account with the setting off', async () => {
    const lenient = await h.bind(r.port, { systemId: 'lenient', password: 'pw' });
    expect(await status(submit(lenient, DE))).toBe(S.ESME_ROK);
  });

  it('follows a sell rate created later, announced on config.changes.v1', async () => {
    const strict = await h.bind(r.port, { systemId: 'strict', password: 'pw' });
    const FR = '33612345678';
    expect(await status(submit(strict, FR))).toBe(S.ESME_RINVDSTADR);
    await addRate('account', strictId, { country: 'FR' });
    await h.producer.produce(
      h.topics.configChanges,
      ConfigChange.fromPartial({
        changeId: uniqueName('change'),
        kind: ResourceKind.RESOURCE_KIND_RATE,
        action: ChangeAction.CHANGE_ACTION_CREATED,
        resourceId: 'fr',
        revision: 1n,
        changedAt: new Date(),
        actor: 'test',
      }),
    );
    await waitFor(async () => (await status(submit(strict, FR))) === S.ESME_ROK, {
      what: 'ingress to accept FR once the rate is announced',
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  });
});
