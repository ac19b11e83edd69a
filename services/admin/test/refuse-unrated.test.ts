// Account.refuse_unrated through the admin API (issue 14 item 3): on for a new account unless the request
// says otherwise, written by an update mask, kept by a full replacement that leaves it unset, and carried
// by the ACCOUNT change ingress reloads on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountState, BillingMode, ChangeAction, type Account } from '@smshub/contracts';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
beforeAll(() => h.setup());
afterAll(() => h.teardown());

function account(systemId: string, over: Partial<Account> = {}): Account {
  return {
    id: '',
    name: 'Unrated Ltd',
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

describe('Account.refuse_unrated', () => {
  it('is on for a new account unless asked otherwise, and stored in accounts.refuse_unrated', async () => {
    const { account: on } = await h.call('createAccount', { account: account('unr1') });
    expect(on?.refuseUnrated).toBe(true);
    const { account: off } = await h.call('createAccount', {
      account: account('unr2', { refuseUnrated: false }),
    });
    expect(off?.refuseUnrated).toBe(false);
    const { rows } = await h.pool.query<{ system_id: string; refuse_unrated: boolean }>(
      `SELECT system_id, refuse_unrated FROM accounts WHERE system_id IN ('unr1', 'unr2') ORDER BY system_id`,
    );
    expect(rows).toEqual([
      { system_id: 'unr1', refuse_unrated: true },
      { system_id: 'unr2', refuse_unrated: false },
    ]);
    const change = await h.change(
      (c) => c.resourceId === on!.id && c.action === ChangeAction.CHANGE_ACTION_CREATED,
    );
    expect(change.snapshot?.$case === 'account' && change.snapshot.value.refuseUnrated).toBe(true);
  });

  it('is changed by an update mask, and kept by a full replacement that leaves it unset', async () => {
    const { account: created } = await h.call('createAccount', { account: account('unr3') });
    const { account: masked } = await h.call('updateAccount', {
      account: { ...created!, refuseUnrated: false },
      updateMask: ['refuse_unrated'],
      expectedRevision: created!.revision,
    });
    expect(masked?.refuseUnrated).toBe(false);
    const { refuseUnrated: _unset, ...withoutField } = masked!;
    const { account: replaced } = await h.call('updateAccount', {
      account: { ...withoutField, name: 'Renamed Ltd' },
      updateMask: [],
      expectedRevision: masked!.revision,
    });
    expect([replaced?.name, replaced?.refuseUnrated]).toEqual(['Renamed Ltd', false]);
    const { account: got } = await h.call('getAccount', { id: created!.id });
    expect(got?.refuseUnrated).toBe(false);
  });
});
