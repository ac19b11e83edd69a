// Opt-outs at submit time over real HTTP, Kafka and PostgreSQL: a recipient in the account's opt-out list
// is refused with 422 urn:smshub:problem:opted-out and nothing is published; a per-number opt-out refuses
// only that sender; the refusal follows config.changes.v1 both ways (added, removed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeAction, OptOutSource, ResourceKind } from '@smshub/contracts';
import { uniqueName, waitFor } from '@smshub/testing';
import { call, Harness, type Replica } from './harness.js';

describe('http-api: opted-out recipients', () => {
  const h = new Harness();
  let a: Replica;
  let account: string;
  let key: string;

  async function optOut(msisdn: string, scopeNumber: string, action: 'add' | 'remove') {
    if (action === 'add')
      await h.pool.query(
        `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, $2, $3, 'api')`,
        [account, msisdn, scopeNumber],
      );
    else
      await h.pool.query(`DELETE FROM optouts WHERE account_id = $1 AND msisdn = $2 AND scope_number = $3`, [
        account,
        msisdn,
        scopeNumber,
      ]);
    await h.producer.produce(h.topics.configChanges, {
      changeId: uniqueName('change'),
      kind: ResourceKind.RESOURCE_KIND_OPT_OUT,
      resourceId: `${account}/${msisdn}/${scopeNumber}`,
      action: action === 'add' ? ChangeAction.CHANGE_ACTION_CREATED : ChangeAction.CHANGE_ACTION_DELETED,
      revision: 1n,
      changedAt: new Date(),
      actor: 'test',
      snapshot: {
        $case: 'optOut',
        value: {
          accountId: account,
          msisdn,
          scopeNumber,
          source: OptOutSource.OPT_OUT_SOURCE_API,
          keyword: '',
          createTime: new Date(),
          actor: 'test',
        },
      },
    });
  }

  const send = (to: string, from = 'ACME') =>
    call(`${a.url}/v1/messages`, { key, body: { to, from, text: 'Spring sale' } });

  beforeAll(async () => {
    await h.setup();
    await h.watchSubmitted();
    account = await h.addAccount();
    key = await h.addKey(account);
    // Present at start: loaded with the accounts.
    await h.pool.query(
      `INSERT INTO optouts (account_id, msisdn, scope_number, source) VALUES ($1, '447400123501', '', 'import')`,
      [account],
    );
    a = await h.startReplica();
  });
  afterAll(() => h.teardown());

  it('answers 422 opted-out for a recipient opted out of the account, and publishes nothing', async () => {
    const r = await send('+447400123501');
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body).toMatchObject({ type: 'urn:smshub:problem:opted-out', status: 422 });
    expect(r.body.detail).toMatch(/\+447400123501 opted out/);
    // Another recipient of the same account is accepted.
    const ok = await send('+447400123599');
    expect(ok.status).toBe(202);
    await waitFor(() => h.submitted.get(ok.body.id), { what: 'the accepted message on sms.submitted.v1' });
    expect([...h.submitted.values()].some((m) => m.destination?.address === '447400123501')).toBe(false);
  });

  it('refuses only the hub number the subscriber replied STOP to, and follows a removal', async () => {
    await optOut('447400123502', '447700900500', 'add');
    const refused = await waitFor(
      async () => {
        const r = await send('+447400123502', '+447700900500');
        return r.status === 422 ? r : undefined;
      },
      { what: 'the opt-out applied' },
    );
    expect(refused.body.type).toBe('urn:smshub:problem:opted-out');
    expect((await send('+447400123502', 'ACME')).status).toBe(202);
    await optOut('447400123502', '447700900500', 'remove');
    await waitFor(
      async () => ((await send('+447400123502', '+447700900500')).status === 202 ? true : undefined),
      {
        what: 'the opt-out removed',
      },
    );
  });
});
