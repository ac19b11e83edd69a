// Quiet hours through the admin API over gRPC and PostgreSQL: set (create, then replace) stores the
// windows as routing reads them and announces RESOURCE_KIND_QUIET_HOURS on config.changes.v1; list filters
// by country and account; bad windows are refused with the field named; delete announces the deletion.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeAction, ResourceKind } from '@smshub/contracts';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
const A = '0193a000-0000-7000-8000-0000000000d1';

beforeAll(async () => {
  await h.setup();
  await h.pool.query(
    `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, 'qhA', '$argon2id$x', 'EUR')`,
    [A],
  );
}, 120_000);
afterAll(() => h.teardown());

const window = (from: string, to: string, days: string[] = []) => ({
  timeZone: 'Europe/London',
  days,
  ranges: [{ from, to }],
});

describe('quiet hours', () => {
  it('sets, replaces, lists and deletes, announcing each change', async () => {
    const set = await h.call('setQuietHours', {
      quietHours: { country: 'GB', accountId: '', allowed: [window('08:00', '21:00', ['mon', 'fri'])] },
    });
    expect(set.quietHours).toMatchObject({
      country: 'GB',
      accountId: '',
      allowed: [window('08:00', '21:00', ['mon', 'fri'])],
    });
    const created = await h.change(
      (c) => c.kind === ResourceKind.RESOURCE_KIND_QUIET_HOURS && c.resourceId === 'GB/',
    );
    expect(created.action).toBe(ChangeAction.CHANGE_ACTION_CREATED);
    const { rows } = await h.pool.query(
      `SELECT allowed FROM quiet_hours WHERE country = 'GB' AND account_id = ''`,
    );
    expect(rows[0].allowed).toEqual([
      { timeZone: 'Europe/London', days: ['mon', 'fri'], ranges: [{ from: '08:00', to: '21:00' }] },
    ]);

    await h.call('setQuietHours', {
      quietHours: { country: 'GB', accountId: A, allowed: [window('09:00', '20:00')] },
    });
    await h.call('setQuietHours', {
      quietHours: { country: 'FR', accountId: '', allowed: [window('10:00', '18:00')] },
    });
    await h.call('setQuietHours', {
      quietHours: { country: 'GB', accountId: '', allowed: [window('07:00', '22:00')] },
    });
    await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_QUIET_HOURS &&
        c.resourceId === 'GB/' &&
        c.action === ChangeAction.CHANGE_ACTION_UPDATED,
    );
    const gb = await h.call('listQuietHours', { country: 'GB', accountId: '' });
    expect(gb.quietHours.map((q) => [q.country, q.accountId, q.allowed[0]?.ranges[0]?.from])).toEqual([
      ['GB', '', '07:00'],
      ['GB', A, '09:00'],
    ]);
    expect((await h.call('listQuietHours', { country: '', accountId: '' })).quietHours).toHaveLength(3);

    await h.call('deleteQuietHours', { country: 'GB', accountId: A });
    const deleted = await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_QUIET_HOURS &&
        c.resourceId === `GB/${A}` &&
        c.action === ChangeAction.CHANGE_ACTION_DELETED,
    );
    expect(deleted.action).toBe(ChangeAction.CHANGE_ACTION_DELETED);
    const again = await h.fail('deleteQuietHours', { country: 'GB', accountId: A });
    expect(again.code).toBe(grpc.status.NOT_FOUND);
  });

  it('refuses bad entries, naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ country: 'gb', accountId: '', allowed: [window('08:00', '21:00')] }, /country/],
      [{ country: 'GB', accountId: '', allowed: [] }, /allowed: needs at least one/],
      [
        { country: 'GB', accountId: '', allowed: [{ ...window('08:00', '21:00'), timeZone: 'Mars/Base' }] },
        /time_zone/,
      ],
      [{ country: 'GB', accountId: '', allowed: [window('8:00', '21:00')] }, /ranges/],
      [{ country: 'GB', accountId: '', allowed: [window('08:00', '21:00', ['monday'])] }, /days/],
      [{ country: 'GB', accountId: 'nope', allowed: [window('08:00', '21:00')] }, /account_id/],
    ];
    for (const [quietHours, re] of cases) {
      const e = await h.fail('setQuietHours', { quietHours } as never);
      expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.details).toMatch(re);
    }
  });
});
