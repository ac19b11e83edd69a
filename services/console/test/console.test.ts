// The console in a real browser (Debian's chromium driven by playwright-core) against a real hub: sign-in,
// a message sent over SMPP found with its timeline, a routing rule changed through the admin API's
// validation, a connector disabled with confirmation, and the limits of each role. One hub and one browser
// for the whole file; every test has its own browser context (its own cookies).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { Metadata } from '@grpc/grpc-js';
import {
  namespacedTopics,
  topics,
  type GetConnectorResponse,
  type GetRoutingRuleResponse,
} from '@smshub/contracts';
import { connectSmpp, type SmppSession } from '@smshub/smpp';
import {
  createTestDatabase,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type TestDatabase,
} from '@smshub/testing';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createLogger } from '@smshub/logging';
import { Assets } from '../src/assets.js';
import { Backends } from '../src/backends.js';
import { createConsoleServer, type ConsoleServer } from '../src/server.js';
import { launchBrowser, startConsoleHub, type ConsoleHub } from './browser.js';

let db: TestDatabase | undefined;
let ch: ConsoleHub | undefined;
let browser: Browser | undefined;
let esme: SmppSession | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  ch = await startConsoleHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    // Both simulated networks deliver at once: the timeline ends in DELIVERED.
    demoProfile: 'bench',
  });
  browser = await launchBrowser();
}, 400_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await esme?.close().catch(() => undefined);
  ch?.admin.close();
  await ch?.hub.stop();
  await db?.drop();
}, 120_000);

async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser!.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  return page;
}

/** The text of `loc`, polled until the matcher holds (20 s). */
function text(loc: Locator) {
  return expect.poll(() => loc.innerText().catch(() => ''), { timeout: 20_000, interval: 100 });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(ch!.url);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

function adminCall<T>(invoke: (md: Metadata, cb: (err: Error | null, res: T) => void) => void): Promise<T> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${ch!.tokens.admin}`);
  return new Promise((resolve, reject) => invoke(md, (err, res) => (err ? reject(err) : resolve(res))));
}

// Each page step may wait up to 20 s on a busy machine, and a test has several: more than the default 60 s.
describe('console', { timeout: 180_000 }, () => {
  it('refuses a customer token and a wrong token at sign-in', async () => {
    const page = await newPage();
    await signIn(page, ch!.tokens.customer);
    await text(page.getByRole('alert')).toContain('cannot sign in to the console');
    await page.getByLabel('Token').fill('not-a-token-at-all-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await text(page.getByRole('alert')).toContain('not valid');
    expect(await page.getByRole('navigation', { name: 'pages' }).count()).toBe(0);
  });

  it(
    'signs in, finds a message sent over SMPP and shows its timeline; deep links and back work',
    { timeout: 180_000 },
    async () => {
      esme = await connectSmpp({
        host: '127.0.0.1',
        port: ch!.hub.ports.smpp,
        systemId: ch!.hub.secrets.demoSystemId,
        password: ch!.hub.secrets.demoPassword,
        bindType: 'transceiver',
        enquireLinkMs: 0,
        responseTimeoutMs: 15_000,
        handlers: { deliver_sm: () => undefined },
      });
      const to = '447400123987';
      const resp = await esme.submit({
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: 'CONSOLE',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to,
        registered_delivery: 1,
        short_message: Buffer.from('console test'),
      });
      const id = resp.message_id!;
      expect(id).toBeTruthy();

      const page = await newPage();
      await signIn(page, ch!.tokens.admin);
      await text(page.getByRole('navigation', { name: 'pages' })).toContain('Messages');
      // Cookie: HttpOnly, SameSite=Strict (not Secure on plain HTTP).
      const cookie = (await page.context().cookies()).find((c) => c.name === 'smshub_console');
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');

      // Search by number through the form.
      await page.getByRole('link', { name: 'Messages' }).click();
      await page.getByLabel('number (or prefix)').fill(`+${to}`);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/\/messages\?to=/);
      const row = page.getByRole('link', { name: id });
      await waitFor(
        async () => {
          if (await row.count()) return true;
          await page.reload();
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: 'the message in the search results' },
      );
      await row.click();
      await page.waitForURL(new RegExp(`/messages/${id}$`));
      // The full timeline: dlr keeps every service's record; wait until the receipt has come back.
      const timeline = page.getByRole('list', { name: 'timeline' });
      await waitFor(
        async () => {
          const kinds = await timeline
            .locator('li')
            .evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
          if (['submitted', 'routed', 'dispatched', 'delivery'].every((k) => kinds.includes(k))) return kinds;
          await page.reload();
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: 'the timeline up to the delivery' },
      );
      await text(page.getByTestId('status')).toContain('delivered');
      // The console never shows the text of a message.
      expect(await page.content()).not.toContain('console test');

      // Back returns to the search, with its results; a deep link opens the message directly.
      await page.goBack();
      await page.waitForURL(/\/messages\?to=/);
      await page.getByRole('link', { name: id }).waitFor({ state: 'visible' });
      await page.goto(`${ch!.url}/messages/${id}`);
      await page.getByRole('heading', { name: `Message ${id}` }).waitFor({ state: 'visible' });
      await timeline.locator('li[data-kind="submitted"]').waitFor({ state: 'visible' });

      // The hub id box finds it too.
      await page.goto(`${ch!.url}/messages?id=${id}`);
      await page.getByRole('link', { name: id }).waitFor({ state: 'visible' });
    },
  );

  it('draws the overview from the stats service and keeps it current', { timeout: 150_000 }, async () => {
    const page = await newPage();
    await signIn(page, ch!.tokens.operations);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect.poll(() => page.locator('.chart canvas').count(), { timeout: 20_000 }).toBe(4);
    // The message of the previous test shows up once the stats service has rolled its minute up; the
    // page refreshes itself (no reload here).
    const submitted = page.locator('.card', { hasText: 'submitted' }).locator('.card-value');
    await expect
      .poll(async () => Number((await submitted.innerText()).replace(/\D/g, '')), {
        timeout: 120_000,
        interval: 1_000,
      })
      .toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('alert').count()).toBe(0);
    // Consumer lag from admin (ListConsumerLag): the total and the hub's groups, worst first.
    const lag = page.locator('.card', { hasText: 'consumer lag' }).locator('.card-value');
    await expect.poll(async () => /^\d[\d,]*$/.test(await lag.innerText()), { timeout: 20_000 }).toBe(true);
    const groups = page.getByRole('table', { name: 'consumer lag' }).locator('tr[data-group]');
    await expect.poll(() => groups.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await groups.first().getAttribute('data-group')).toMatch(/smshub-/);
  });

  it(
    'changes a routing rule through the admin API, and shows the API refusing a bad one',
    { timeout: 150_000 },
    async () => {
      const page = await newPage();
      await signIn(page, ch!.tokens.admin);
      await page.getByRole('link', { name: 'Routing & firewall' }).click();
      const edit = page
        .getByRole('table', { name: 'routing rules' })
        .getByRole('link', { name: 'Edit' })
        .first();
      await edit.click();
      const ruleId = decodeURIComponent(page.url().split('/').pop()!);
      const form = page.getByRole('form', { name: 'edit routing rule' });
      const before = await adminCall<GetRoutingRuleResponse>((md, cb) =>
        ch!.admin.getRoutingRule({ id: ruleId }, md, cb),
      );

      // The form shows the stored rule at once (it had an empty first render a quick user could save).
      const targets = await form.getByLabel(/^targets/).inputValue();
      expect(targets).not.toBe('');
      // A target that is no connector: admin refuses, the console shows why, nothing changes.
      await form.getByLabel(/^targets/).fill(`${targets}, no-such-connector`);
      await form.getByRole('button', { name: 'Save' }).click();
      await text(form.getByRole('alert')).toContain('no-such-connector');
      await form.getByLabel(/^targets/).fill(targets);

      await form.getByLabel(/^priority/).fill('42');
      await form.getByRole('button', { name: 'Save' }).click();
      // Back on the list once admin took it (a loaded CI machine can take a while); a refusal shows its reason.
      await page.waitForURL(/\/routing$/, { timeout: 60_000 }).catch(async (err: Error) => {
        const alert = await form
          .getByRole('alert')
          .textContent({ timeout: 1_000 })
          .catch(() => null);
        throw new Error(`the save did not return to /routing: ${alert ?? 'no alert shown'}`, { cause: err });
      });
      await text(page.locator(`tr[data-rule="${ruleId}"] td`).first()).toBe('42');
      const stored = await adminCall<GetRoutingRuleResponse>((md, cb) =>
        ch!.admin.getRoutingRule({ id: ruleId }, md, cb),
      );
      expect(stored.routingRule?.priority).toBe(42);
      expect(stored.routingRule?.targets.map((t) => t.connectorId)).toEqual(
        targets.split(',').map((t) => t.trim().split(':')[0]),
      );
      // Saving with the re-route and grey-route fields untouched kept them as they were.
      expect(stored.routingRule?.reroute).toEqual(before.routingRule?.reroute);
      expect(stored.routingRule?.demoteSuspected).toEqual(before.routingRule?.demoteSuspected);

      // The re-route policy and the demotion of suspected grey routes (issue 21), edited in the form.
      await page.locator(`tr[data-rule="${ruleId}"]`).getByRole('link', { name: 'Edit' }).click();
      await form.getByLabel(/^re-route/).selectOption('on');
      await form.getByLabel(/^failures that re-route/).fill('undeliv:069, REJECTD');
      await form.getByLabel(/^receipt errors that never re-route/).fill('011');
      await form.getByLabel(/^window after the supplier/).fill('20');
      await form.getByLabel(/^suspected grey routes/).selectOption('off');
      await form.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/routing$/, { timeout: 60_000 });
      const changed = await adminCall<GetRoutingRuleResponse>((md, cb) =>
        ch!.admin.getRoutingRule({ id: ruleId }, md, cb),
      );
      expect(changed.routingRule?.reroute).toEqual({
        enabled: true,
        failures: ['UNDELIV:069', 'REJECTD'],
        exceptErrors: ['011'],
        windowMs: 20_000,
      });
      expect(changed.routingRule?.demoteSuspected).toBe(false);
      expect(changed.routingRule?.priority).toBe(42);
      // The form shows them when opened again.
      await page.locator(`tr[data-rule="${ruleId}"]`).getByRole('link', { name: 'Edit' }).click();
      expect(await form.getByLabel(/^failures that re-route/).inputValue()).toBe('UNDELIV:069, REJECTD');
      expect(await form.getByLabel(/^suspected grey routes/).inputValue()).toBe('off');
    },
  );

  it('an admin sees the live connector state, disables a connector after confirming, and enables it again', async () => {
    const page = await newPage();
    await signIn(page, ch!.tokens.admin);
    await page.getByRole('link', { name: 'Connectors' }).click();
    // The live state from egress (ListConnectorStates): the replica's session bound, not stale.
    const live = page.locator('tr[data-connector="sim-good"] td[data-live="sessions"]');
    await text(live).toMatch(/\bbound\b/);
    expect(await live.locator('[data-stale="true"]').count()).toBe(0);
    await text(page.locator('tr[data-connector="sim-good"] td[data-live="tps"]')).toMatch(/\d+ \/ [\d,]+/);
    // A connector's own page shows its live state too.
    await page.locator('tr[data-connector="sim-good"]').getByRole('link').first().click();
    await text(page.locator('dd[data-live="sessions"]')).toMatch(/\bbound\b/);
    await text(page.locator('dd[data-live="bound"]')).toMatch(/^[1-9]\d* of [1-9]/);
    await text(page.locator('dd[data-live="tps"]')).toMatch(/\d+ \/ [\d,]+/);
    await page.getByRole('link', { name: '← connectors' }).click();
    const row = page.locator('tr[data-connector="sim-poor"]');
    await row.getByRole('button', { name: 'Disable' }).click();
    const dialog = page.getByRole('dialog', { name: 'confirm' });
    await text(dialog).toContain('Disable connector');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await text(row).toContain('enabled');
    await row.getByRole('button', { name: 'Disable' }).click();
    await dialog.getByRole('button', { name: 'Yes' }).click();
    await text(row.locator('.pill').first()).toBe('disabled');
    const off = await adminCall<GetConnectorResponse>((md, cb) =>
      ch!.admin.getConnector({ id: 'sim-poor' }, md, cb),
    );
    expect(off.connector?.enabled).toBe(false);
    await row.getByRole('button', { name: 'Enable' }).click();
    await dialog.getByRole('button', { name: 'Yes' }).click();
    await text(row.locator('.pill').first()).toBe('enabled');
  });

  it('limits every page and action by role: finance cannot touch connectors, operations sees no money', async () => {
    const finance = await newPage();
    await signIn(finance, ch!.tokens.finance);
    const nav = finance.getByRole('navigation', { name: 'pages' });
    await text(nav).toContain('Settlement');
    await text(nav).not.toContain('Connectors');
    await finance.goto(`${ch!.url}/connectors`);
    await text(finance.getByRole('alert')).toContain('Your role (finance) cannot open Connectors');
    // The API refuses too, whatever the page shows.
    const refused = await finance.evaluate(async () => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      const r = await fetch('/api/connectors/sim-good/enabled', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrf },
        body: JSON.stringify({ enabled: false }),
      });
      return r.status;
    });
    expect(refused).toBe(403);
    const on = await adminCall<GetConnectorResponse>((md, cb) =>
      ch!.admin.getConnector({ id: 'sim-good' }, md, cb),
    );
    expect(on.connector?.enabled).toBe(true);
    // Finance sees settlement (and its CSV export) and balances with the top-up form.
    await finance.getByRole('link', { name: 'Settlement' }).click();
    await finance.getByRole('table', { name: 'settlement totals' }).waitFor({ state: 'visible' });
    await finance.getByRole('link', { name: 'Accounts' }).click();
    await finance.getByRole('table', { name: 'accounts' }).getByRole('link').first().click();
    await finance.getByRole('form', { name: 'Top up' }).waitFor({ state: 'visible' });

    const ops = await newPage();
    await signIn(ops, ch!.tokens.operations);
    const opsNav = ops.getByRole('navigation', { name: 'pages' });
    await text(opsNav).toContain('Connectors');
    await text(opsNav).not.toContain('Settlement');
    await ops.getByRole('link', { name: 'Connectors' }).click();
    await ops.locator('tr[data-connector="sim-good"]').waitFor({ state: 'visible' });
    expect(await ops.getByRole('button', { name: 'Disable' }).count()).toBe(0);
    await ops.getByRole('link', { name: 'Accounts' }).click();
    await ops.getByRole('table', { name: 'accounts' }).getByRole('link').first().click();
    await ops.getByRole('heading', { name: 'Traffic, last 24 h' }).waitFor({ state: 'visible' });
    expect(await ops.getByRole('heading', { name: 'Balance' }).count()).toBe(0);
  });

  it('refuses a mutation without the CSRF token or from another origin', async () => {
    const page = await newPage();
    await signIn(page, ch!.tokens.admin);
    await page.getByRole('navigation', { name: 'pages' }).waitFor({ state: 'visible' });
    const statuses = await page.evaluate(async () => {
      const post = (headers: Record<string, string>) =>
        fetch('/api/connectors/sim-good/enabled', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ enabled: false }),
        }).then((r) => r.status);
      return [await post({}), await post({ 'x-csrf-token': 'guess' })];
    });
    expect(statuses).toEqual([403, 403]);
    const res = await fetch(`${ch!.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ token: ch!.tokens.admin }),
    });
    expect(res.status).toBe(403);
  });

  it('works on a narrow screen: the pages sit behind a menu button', async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, ch!.tokens.operations);
    const nav = page.getByRole('navigation', { name: 'pages' });
    await nav.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'menu' }).click();
    await nav.waitFor({ state: 'visible' });
    await nav.getByRole('link', { name: 'Routing & firewall' }).click();
    await nav.waitFor({ state: 'hidden' });
    await page.getByRole('heading', { name: 'Routing & firewall' }).waitFor({ state: 'visible' });
    const overflow = await page.evaluate(() => {
      const w = globalThis as unknown as {
        document: { documentElement: { scrollWidth: number } };
        innerWidth: number;
      };
      return w.document.documentElement.scrollWidth - w.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it(
    'shows the hits of each rule, and a dry run says where a message would go and why (no prices for operations)',
    { timeout: 180_000 },
    async () => {
      const smpp = await connectSmpp({
        host: '127.0.0.1',
        port: ch!.hub.ports.smpp,
        systemId: ch!.hub.secrets.demoSystemId,
        password: ch!.hub.secrets.demoPassword,
        bindType: 'transceiver',
        enquireLinkMs: 0,
        responseTimeoutMs: 15_000,
        handlers: { deliver_sm: () => undefined },
      });
      try {
        await smpp.submit({
          source_addr_ton: 5,
          source_addr_npi: 0,
          source_addr: 'CONSOLE',
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: '447400123988',
          short_message: Buffer.from('dry run test'),
        });
      } finally {
        await smpp.close().catch(() => undefined);
      }
      const page = await newPage();
      await signIn(page, ch!.tokens.operations);
      await text(page.getByRole('navigation', { name: 'pages' })).toContain('Routing');
      await page.goto(`${ch!.url}/routing`);
      // The message was routed: the rule that matched it shows a hit in the last hour (stats counts it).
      await expect
        .poll(
          async () => {
            await page.reload();
            await page.locator('tr[data-rule]').first().waitFor();
            const cells = await page.locator('[data-hits]').allInnerTexts();
            return cells.some((c) => /^[1-9]\d* \//.test(c.trim()));
          },
          { timeout: 90_000, interval: 2_000 },
        )
        .toBe(true);

      const form = page.getByRole('form', { name: 'dry run' });
      await form.getByLabel('account id').fill(ch!.accountId);
      await form.getByLabel('destination').fill('+447400123988');
      await form.getByLabel('sender').fill('CONSOLE');
      await form.getByLabel('text').fill('dry run test');
      await form.getByRole('button', { name: 'Dry run' }).click();
      const result = page.getByRole('region', { name: 'dry run result' });
      await text(result).toContain('routed — +447400123988 GB');
      await text(result).toMatch(/firewall: passed/);
      await text(result).toMatch(/chosen: \S+ — /);
      const rows = result.getByRole('table', { name: 'dry run connectors' }).locator('tbody tr');
      expect(await rows.count()).toBeGreaterThan(0);
      // Operations sees no prices (rates.read is admin's).
      expect((await rows.first().locator('td').nth(2).innerText()).trim()).toBe('');
      if (process.env.CONSOLE_SHOT_DIR)
        await page.screenshot({
          path: `${process.env.CONSOLE_SHOT_DIR}/routing-dry-run.png`,
          fullPage: true,
        });

      // An invalid number: the rejection and the receipt the customer would get.
      await form.getByLabel('destination').fill('12');
      await form.getByRole('button', { name: 'Dry run' }).click();
      await text(result).toContain('rejected: invalid_number');
    },
  );

  it(
    'dead letters: operations see the group holding a poison record and replay it after confirming; finance has no such page',
    { timeout: 360_000 },
    async () => {
      // A record routing cannot decode: it dead-letters it into <ns>.smshub-routing.dlq.
      const kafka = new Kafka({ brokers: ch!.hub.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: namespacedTopics(topics, ch!.hub.namespace).submitted.name,
        messages: [{ key: 'console-poison', value: Buffer.from([0x0f, 0xff]) }],
      });
      await producer.disconnect();
      const group = `${ch!.hub.namespace}.smshub-routing`;

      const ops = await newPage();
      await signIn(ops, ch!.tokens.operations);
      await ops
        .getByRole('navigation', { name: 'pages' })
        .getByRole('link', { name: 'Dead letters' })
        .click();
      const link = ops
        .getByRole('table', { name: 'dead-letter groups' })
        .getByRole('link', { name: group, exact: true });
      await expect
        .poll(
          async () => {
            if ((await link.count()) === 0) await ops.reload();
            return link.count();
          },
          { timeout: 120_000, interval: 2_000 },
        )
        .toBe(1);
      await link.click();
      expect(new URL(ops.url()).searchParams.get('group')).toBe(group);
      const letters = ops.getByRole('table', { name: 'dead letters' });
      await text(letters).toContain('DecodeError');
      await text(letters).toContain('undecodable');
      await letters.getByRole('button', { name: 'Replay' }).first().click();
      const dialog = ops.getByRole('dialog', { name: 'confirm' });
      await text(dialog).toContain(`into ${group}`);
      await dialog.getByRole('button', { name: 'Replay' }).click();
      await text(ops.getByRole('status')).toContain('Replayed 1');
      // The letter shows who replayed it; still undecodable, routing dead-letters the replay again: a
      // second letter (listed first, newest first) with 2 attempts.
      await text(letters).toContain('by noc');
      await expect
        .poll(
          async () => {
            await ops.reload();
            await letters.waitFor({ state: 'visible', timeout: 30_000 }).catch(() => undefined);
            return letters.locator('tbody tr').count();
          },
          { timeout: 150_000, interval: 2_000 },
        )
        .toBeGreaterThanOrEqual(2);
      await text(letters.locator('tbody tr').first()).toMatch(/DecodeError[\s\S]*\b2\b/);

      const finance = await newPage();
      await signIn(finance, ch!.tokens.finance);
      await text(finance.getByRole('navigation', { name: 'pages' })).not.toContain('Dead letters');
      await finance.goto(`${ch!.url}/deadletters`);
      await text(finance.getByRole('alert')).toContain('cannot open Dead letters');
    },
  );
  it('replicas sharing CONSOLE_SESSION_KEY serve one sign-in (sealed sessions); another key does not open it', async () => {
    const started: Array<{ server: ConsoleServer; backends: Backends }> = [];
    const replica = async (keys: Buffer[]) => {
      const backends = new Backends({ admin: `127.0.0.1:${ch!.hub.ports.admin}` });
      const server = createConsoleServer({
        options: { host: '127.0.0.1', port: 0, idleMs: 60_000, maxMs: 3_600_000, sessionKeys: keys },
        backends,
        assets: new Assets(path.join(import.meta.dirname, '../dist/web')),
        logger: createLogger({ service: 'console-test', level: 'warn' }),
      });
      started.push({ server, backends });
      const { port } = await server.start();
      return `http://127.0.0.1:${port}`;
    };
    try {
      const key = randomBytes(32);
      const [a, b, other] = [await replica([key]), await replica([key]), await replica([randomBytes(32)])];
      const signIn = await fetch(`${a}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: ch!.tokens.operations }),
      });
      expect(signIn.status).toBe(200);
      const { csrf } = (await signIn.json()) as { csrf: string };
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).toMatch(/^smshub_console=s1\./);
      expect(cookie).not.toContain(ch!.tokens.operations);

      // Replica b knows the session it never saw: same role, same CSRF token, and the token works there.
      const there = await fetch(`${b}/api/session`, { headers: { cookie } });
      expect(there.status).toBe(200);
      expect(await there.json()).toMatchObject({ role: 'operations', csrf });
      const connectors = await fetch(`${b}/api/connectors`, { headers: { cookie } });
      expect(connectors.status).toBe(200);
      // A mutation on b needs the CSRF token a gave out.
      const without = await fetch(`${b}/api/session`, { method: 'DELETE', headers: { cookie } });
      expect(without.status).toBe(403);

      // A replica with another key: not signed in.
      expect((await fetch(`${other}/api/session`, { headers: { cookie } })).status).toBe(401);
      // Sign-out on b clears the cookie.
      const out = await fetch(`${b}/api/session`, {
        method: 'DELETE',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(out.status).toBe(200);
      expect(out.headers.get('set-cookie')).toMatch(/^smshub_console=;.*Max-Age=0/);
    } finally {
      for (const r of started) {
        await r.server.stop();
        r.backends.close();
      }
    }
  });
});
