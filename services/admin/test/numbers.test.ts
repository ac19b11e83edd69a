// Hub numbers for inbound messages (issue 19 part 1): assigned to accounts with validity dates through the
// admin API, shared short codes by keyword, overlapping claims refused, every write audited; and the
// account's mo_reassemble setting (on unless asked otherwise).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { AccountState, BillingMode, HubNumberKind, type Account, type HubNumber } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
beforeAll(() => h.setup());
afterAll(() => h.teardown());

function account(systemId: string, over: Partial<Account> = {}): Account {
  return {
    id: '',
    name: 'MO Ltd',
    state: AccountState.ACCOUNT_STATE_ACTIVE,
    billingMode: BillingMode.BILLING_MODE_POSTPAID,
    currencyCode: 'EUR',
    smppCredentials: [
      {
        systemId,
        password: 'secret1',
        passwordHash: '',
        allowedCidrs: [],
        maxBinds: 1,
        maxSubmitRate: 10,
        windowSize: 10,
      },
    ],
    defaultTrafficType: 0,
    allowedSources: [],
    receiptIncludeText: false,
    messageIdFormat: '',
    revision: 0n,
    routingGroup: '',
    defaultCountry: '',
    pricePlanId: '',
    defaultValiditySeconds: 0,
    chargeOn: 0,
    ...over,
  };
}

const number = (over: Partial<HubNumber>): HubNumber => ({
  id: '',
  number: '',
  kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
  accountId: '',
  keywords: [],
  ...over,
});

describe('hub numbers', () => {
  let a = '';
  let b = '';
  beforeAll(async () => {
    a = (await h.call('createAccount', { account: account('moa') })).account!.id;
    b = (await h.call('createAccount', { account: account('mob', { moReassemble: false }) })).account!.id;
  });

  it('mo_reassemble is on for a new account unless asked otherwise', async () => {
    expect((await h.call('getAccount', { id: a })).account?.moReassemble).toBe(true);
    expect((await h.call('getAccount', { id: b })).account?.moReassemble).toBe(false);
  });

  it('assigns a long code, refuses a second owner for an overlapping period, allows a later one', async () => {
    const { number: n } = await h.call('createNumber', {
      number: number({ number: '+447700900555', accountId: a, validTo: new Date('2030-01-01T00:00:00Z') }),
    });
    expect(n).toMatchObject({
      number: '447700900555',
      accountId: a,
      kind: HubNumberKind.HUB_NUMBER_KIND_LONG_CODE,
    });
    expect(n?.id).toMatch(/^num_/);
    const clash = await h.fail('createNumber', { number: number({ number: '447700900555', accountId: b }) });
    expect(clash.code).toBe(status.FAILED_PRECONDITION);
    expect(clash.details).toMatch(/already assigned/);
    const later = await h.call('createNumber', {
      number: number({ number: '447700900555', accountId: b, validFrom: new Date('2030-01-01T00:00:00Z') }),
    });
    expect(later.number?.accountId).toBe(b);
    const { numbers } = await h.call('listNumbers', {
      number: '447700900555',
      accountId: '',
      pageSize: 0,
      pageToken: '',
    });
    expect(numbers.map((x) => x.accountId).sort()).toEqual([a, b].sort());
  });

  it('shares a short code by keyword; one catch-all at most; keywords only on short codes', async () => {
    const short = (accountId: string, keywords: string[]) =>
      number({ number: '60123', kind: HubNumberKind.HUB_NUMBER_KIND_SHORT_CODE, accountId, keywords });
    const pizza = await h.call('createNumber', { number: short(a, ['pizza']) });
    expect(pizza.number?.keywords).toEqual(['PIZZA']);
    await h.call('createNumber', { number: short(b, ['TAXI']) });
    await h.call('createNumber', { number: short(b, []) });
    expect((await h.fail('createNumber', { number: short(a, ['Taxi']) })).code).toBe(
      status.FAILED_PRECONDITION,
    );
    expect((await h.fail('createNumber', { number: short(a, []) })).code).toBe(status.FAILED_PRECONDITION);
    const bad = await h.fail('createNumber', {
      number: number({ number: '447700900556', accountId: a, keywords: ['X'] }),
    });
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  });

  it('gets and removes an assignment; the writes are in the audit log', async () => {
    const { number: n } = await h.call('createNumber', {
      number: number({ number: '447700900557', accountId: a }),
    });
    expect((await h.call('getNumber', { id: n!.id })).number?.number).toBe('447700900557');
    await h.call('deleteNumber', { id: n!.id });
    expect((await h.fail('getNumber', { id: n!.id })).code).toBe(status.NOT_FOUND);
    await waitFor(() => h.audits.find((e) => e.method === 'DeleteNumber' && e.resourceId === n!.id), {
      what: 'the DeleteNumber audit event',
    });
    expect(h.audits.some((e) => e.method === 'CreateNumber' && e.resourceId === n!.id)).toBe(true);
  });
});
