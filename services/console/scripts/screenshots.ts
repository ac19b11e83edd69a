// `npm run console-screenshots`: regenerates the screenshots of docs/console.md. Starts a throwaway hub
// (its own database and topic namespace on the local Kafka and PostgreSQL: .local/env, or KAFKA_BROKERS /
// DATABASE_URL), sends some traffic over SMPP (delivered, failed and firewall-rejected messages), waits
// for the statistics to show it, then opens every page in Debian's chromium and writes docs/console/*.png.
// CONSOLE_SCREENSHOTS=deadletters,deadletters-group (comma-separated names) writes only those.
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { namespacedTopics, topics } from '@smshub/contracts';
import { connectSmpp } from '@smshub/smpp';
import { createTestDatabase, repoRoot, waitFor } from '@smshub/testing';
import { launchBrowser, startConsoleHub } from '../test/browser.js';

const root = repoRoot();
const envFile = path.join(process.env.SMSHUB_LOCAL_DIR ?? path.join(root, '.local'), 'env');
const local: Record<string, string> = existsSync(envFile)
  ? Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    )
  : {};
const kafka = process.env.KAFKA_BROKERS ?? local.KAFKA_BROKERS;
const database = process.env.DATABASE_URL ?? local.DATABASE_URL;
if (!kafka || !database) {
  process.stderr.write(
    'needs Kafka and PostgreSQL: npm run infra:up (or set KAFKA_BROKERS and DATABASE_URL)\n',
  );
  process.exit(69);
}
const out = path.join(root, 'docs/console');
const only = (process.env.CONSOLE_SCREENSHOTS ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const wanted = (name: string) => only.length === 0 || only.includes(name);
mkdirSync(out, { recursive: true });

const db = await createTestDatabase(database);
const ch = await startConsoleHub({ kafkaBrokers: kafka, databaseUrl: db.url });
const browser = await launchBrowser();
try {
  const esme = await connectSmpp({
    host: '127.0.0.1',
    port: ch.hub.ports.smpp,
    systemId: ch.hub.secrets.demoSystemId,
    password: ch.hub.secrets.demoPassword,
    bindType: 'transceiver',
    enquireLinkMs: 0,
    responseTimeoutMs: 15_000,
    handlers: { deliver_sm: () => undefined },
  });
  const numbers = ['447400123456', '4915112345678', '33612345678', '2348031234567', '919812345678'];
  let last = '';
  for (let i = 0; i < 60; i++) {
    const text = i % 12 === 5 ? 'win at the casino' : `Your code is ${100000 + i}`;
    const r = await esme.submit({
      source_addr_ton: 5,
      source_addr_npi: 0,
      source_addr: 'ACME',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: numbers[i % numbers.length]!,
      registered_delivery: 1,
      short_message: Buffer.from(text),
    });
    if (i % 12 !== 5) last = r.message_id ?? last;
  }
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(ch.url);
  await page.getByLabel('Token').fill(ch.tokens.admin);
  if (wanted('sign-in')) await page.screenshot({ path: path.join(out, 'sign-in.png') });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'pages' }).waitFor();
  // A record routing cannot decode, so the dead letters page has something to show.
  const kafkaClient = new Kafka({ brokers: ch.hub.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const poison = kafkaClient.producer();
  await poison.connect();
  await poison.send({
    topic: namespacedTopics(topics, ch.hub.namespace).submitted.name,
    messages: [{ key: 'poison-1', value: Buffer.from([0x0f, 0xff]) }],
  });
  await poison.disconnect();
  // The statistics roll up per minute: wait until the overview counts the traffic.
  if (wanted('overview'))
    await waitFor(
      async () => {
        await page.reload();
        await page.waitForLoadState('networkidle');
        const cards = await page.locator('.card-value').first().innerText();
        return Number(cards.replace(/\D/g, '')) >= 50;
      },
      { timeoutMs: 180_000, intervalMs: 5_000, what: 'the overview counting the traffic' },
    );
  const shot = async (name: string, url: string, ready?: string) => {
    if (!wanted(name)) return;
    await page.goto(`${ch.url}${url}`);
    await page.waitForLoadState('networkidle');
    if (ready) await page.locator(ready).first().waitFor();
    await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
    process.stdout.write(`docs/console/${name}.png\n`);
  };
  await shot('overview', '/', '.chart');
  await shot('connectors', '/connectors', 'td[data-live="sessions"] .pill.ok');
  await shot('connector', '/connectors/sim-poor');
  await shot('messages', '/messages?to=44', 'table[aria-label="messages"]');
  await shot('message', `/messages/${last}`, 'ol.timeline li');
  await shot('accounts', '/accounts', 'table[aria-label="accounts"] a');
  if (wanted('account')) {
    await page.goto(`${ch.url}/accounts`);
    const account = await page.locator('table[aria-label="accounts"] a').first().getAttribute('href');
    await shot('account', account ?? '/accounts');
  }
  await shot('routing', '/routing', 'tr[data-rule]');
  if (wanted('routing-edit')) {
    await page.goto(`${ch.url}/routing`);
    const edit = await page.locator('tr[data-rule] a').first().getAttribute('href');
    await shot('routing-edit', edit ?? '/routing', 'form');
  }
  await shot('settlement', '/settlement', 'table');
  const dlGroup = `${ch.hub.namespace}.smshub-routing`;
  await waitFor(
    async () => {
      await page.goto(`${ch.url}/deadletters`);
      await page.waitForLoadState('networkidle');
      return (await page.getByRole('link', { name: dlGroup, exact: true }).count()) > 0;
    },
    { timeoutMs: 120_000, intervalMs: 3_000, what: 'routing holding the poison record' },
  );
  await shot('deadletters', '/deadletters', 'table[aria-label="dead-letter groups"] a');
  await shot(
    'deadletters-group',
    `/deadletters?group=${encodeURIComponent(dlGroup)}`,
    'table[aria-label="dead letters"] td',
  );
  if (wanted('narrow')) {
    const narrow = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await narrow.newPage();
    await phone.goto(ch.url);
    await phone.getByLabel('Token').fill(ch.tokens.operations);
    await phone.getByRole('button', { name: 'Sign in' }).click();
    await phone.getByRole('button', { name: 'menu' }).click();
    await phone.screenshot({ path: path.join(out, 'narrow.png') });
    process.stdout.write('docs/console/narrow.png\n');
  }
  await esme.close();
} finally {
  await browser.close();
  ch.admin.close();
  await ch.hub.stop();
  await db.drop();
}
