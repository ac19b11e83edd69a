// Opt-out lists over real gRPC, PostgreSQL and Kafka: add/remove/list announced on config.changes.v1 and
// audited; a CSV export imports back into another account (round trip); a bad line refuses the whole
// file with its line number and nothing is imported; operations may write, finance may not read.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeAction, OptOutScope, OptOutSource, ResourceKind, TokenRole } from '@smshub/contracts';
import { waitFor } from '@smshub/testing';
import { AdminHarness } from './harness.js';

const h = new AdminHarness();
const A = '0193a000-0000-7000-8000-0000000000c1';
const B = '0193a000-0000-7000-8000-0000000000c2';
const HUB = '447700900500';
let operations = '';
let finance = '';

beforeAll(async () => {
  await h.setup();
  for (const [id, sys] of [
    [A, 'optA'],
    [B, 'optB'],
  ])
    await h.pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, $2, '$argon2id$x', 'EUR')`,
      [id, sys],
    );
  operations = (
    await h.call('createToken', { name: 'noc', role: TokenRole.TOKEN_ROLE_OPERATIONS, accountId: '' })
  ).secret;
  finance = (await h.call('createToken', { name: 'fin', role: TokenRole.TOKEN_ROLE_FINANCE, accountId: '' }))
    .secret;
}, 120_000);
afterAll(() => h.teardown());

const entry = (msisdn: string, scopeNumber = '') => ({
  optOut: {
    accountId: A,
    msisdn,
    scopeNumber,
    source: OptOutSource.OPT_OUT_SOURCE_UNSPECIFIED,
    keyword: '',
    actor: '',
  },
});

describe('opt-out lists', () => {
  it('adds (operations may), announces the entry, audits it with the caller; a second add changes nothing', async () => {
    const res = await h.call('addOptOut', entry('+447400123201', HUB), operations);
    expect(res.added).toBe(true);
    expect(res.optOut).toMatchObject({
      msisdn: '447400123201',
      scopeNumber: HUB,
      source: OptOutSource.OPT_OUT_SOURCE_API,
      actor: 'noc',
    });
    const change = await h.change(
      (c) => c.kind === ResourceKind.RESOURCE_KIND_OPT_OUT && c.resourceId === `${A}/447400123201/${HUB}`,
    );
    expect(change.action).toBe(ChangeAction.CHANGE_ACTION_CREATED);
    expect(change.snapshot?.$case).toBe('optOut');
    const audit = await waitFor(
      () => h.audits.find((e) => e.method === 'AddOptOut' && e.resourceId === `${A}/447400123201/${HUB}`),
      { what: 'the AddOptOut audit event' },
    );
    expect(audit).toMatchObject({
      resourceKind: 'opt_out',
      role: 'operations',
      tokenName: 'noc',
      outcome: 'OK',
    });
    expect((await h.call('addOptOut', entry('447400123201', HUB), operations)).added).toBe(false);
  });

  it('lists by number and removes, announcing the removal', async () => {
    await h.call('addOptOut', entry('447400123202'));
    const listed = await h.call('listOptOuts', {
      accountId: A,
      msisdn: '+447400123202',
      pageSize: 0,
      pageToken: '',
    });
    expect(listed.optOuts.map((o) => o.scopeNumber)).toEqual(['']);
    const removed = await h.call('removeOptOut', {
      accountId: A,
      msisdn: '+447400123202',
      scopeNumber: '',
      allScopes: false,
    });
    expect(removed.removed).toBe(1);
    await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_OPT_OUT &&
        c.action === ChangeAction.CHANGE_ACTION_DELETED &&
        c.resourceId === `${A}/447400123202/`,
    );
    const after = await h.call('listOptOuts', {
      accountId: A,
      msisdn: '447400123202',
      pageSize: 0,
      pageToken: '',
    });
    expect(after.optOuts).toEqual([]);
  });

  it('pages through a list', async () => {
    for (const n of ['447400123211', '447400123212', '447400123213'])
      await h.call('addOptOut', { optOut: { ...entry(n).optOut, accountId: B } });
    const p1 = await h.call('listOptOuts', { accountId: B, msisdn: '', pageSize: 2, pageToken: '' });
    expect(p1.optOuts.map((o) => o.msisdn)).toEqual(['447400123211', '447400123212']);
    const p2 = await h.call('listOptOuts', {
      accountId: B,
      msisdn: '',
      pageSize: 2,
      pageToken: p1.nextPageToken,
    });
    expect(p2.optOuts.map((o) => o.msisdn)).toEqual(['447400123213']);
    expect(p2.nextPageToken).toBe('');
  });

  it('exports CSV that imports back into another account (round trip), announced as a reload', async () => {
    const exported = await h.call('exportOptOuts', { accountId: A });
    const text = Buffer.from(exported.csv).toString('utf8');
    expect(text.split('\n')[0]).toBe('msisdn,scope_number,source,keyword,created_at,actor');
    expect(text).toContain(`+447400123201,${HUB},api,,`);
    const C = '0193a000-0000-7000-8000-0000000000c3';
    await h.pool.query(
      `INSERT INTO accounts (id, system_id, password_hash, currency) VALUES ($1, 'optC', '$argon2id$x', 'EUR')`,
      [C],
    );
    const dry = await h.call('importOptOuts', {
      accountId: C,
      csv: exported.csv,
      dryRun: true,
      replaceAll: false,
    });
    expect(dry).toMatchObject({ lines: exported.count, added: exported.count });
    expect((await h.call('exportOptOuts', { accountId: C })).count).toBe(0);
    const imported = await h.call('importOptOuts', {
      accountId: C,
      csv: exported.csv,
      dryRun: false,
      replaceAll: false,
    });
    expect(imported).toMatchObject({ lines: exported.count, added: exported.count, unchanged: 0 });
    await h.change(
      (c) =>
        c.kind === ResourceKind.RESOURCE_KIND_OPT_OUT &&
        c.action === ChangeAction.CHANGE_ACTION_RELOAD &&
        c.resourceId === C,
    );
    const back = await h.call('exportOptOuts', { accountId: C });
    const rows = (csv: Uint8Array) =>
      Buffer.from(csv)
        .toString('utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',').slice(0, 2).join(','));
    expect(rows(back.csv)).toEqual(rows(exported.csv));
    // Created times are kept (the subscriber's opt-out date matters more than the import's).
    expect(Buffer.from(back.csv).toString('utf8')).toContain(
      Buffer.from(exported.csv).toString('utf8').split('\n')[1]!.split(',')[4]!,
    );
    const audit = await waitFor(
      () => h.audits.find((e) => e.method === 'ImportOptOuts' && e.resourceId === `${C}/*`),
      {
        what: 'the import audit event',
      },
    );
    expect(JSON.parse(audit.afterJson)).toMatchObject({ summary: { added: exported.count } });
  });

  it('refuses a file with a bad line, naming the line, and imports nothing', async () => {
    const csv = Buffer.from('msisdn,scope_number\n+447400123301,\n+44 not a number,\n447400123302,12ab\n');
    const err = await h.fail('importOptOuts', { accountId: A, csv, dryRun: false, replaceAll: false });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/line 3: .*msisdn/);
    expect(err.details).toMatch(/line 4: .*scope_number/);
    const listed = await h.call('listOptOuts', {
      accountId: A,
      msisdn: '447400123301',
      pageSize: 0,
      pageToken: '',
    });
    expect(listed.optOuts).toEqual([]);
  });

  it('keeps opt-out lists from finance', async () => {
    const err = await h.fail(
      'listOptOuts',
      { accountId: A, msisdn: '', pageSize: 0, pageToken: '' },
      finance,
    );
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('stores keyword sets per account, country and language, and lists the defaults', async () => {
    const set = await h.call('setOptOutKeywords', {
      keywordSet: {
        accountId: A,
        country: 'FR',
        language: 'fr',
        stopKeywords: ['arret', 'stop'],
        stopAllKeywords: [],
        startKeywords: [],
        helpKeywords: ['aide'],
        helpReply: 'Répondez STOP pour ne plus recevoir de messages.',
        stopReply: '',
        startReply: '',
        scope: OptOutScope.OPT_OUT_SCOPE_ACCOUNT,
      },
    });
    expect(set.keywordSet?.stopKeywords).toEqual(['ARRET', 'STOP']);
    const list = await h.call('listOptOutKeywords', { accountId: A });
    expect(list.keywordSets).toHaveLength(1);
    expect(list.defaults?.stopKeywords).toContain('UNSUBSCRIBE');
    const bad = await h.fail('setOptOutKeywords', {
      keywordSet: { ...set.keywordSet!, stopKeywords: ['two words'] },
    });
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});
