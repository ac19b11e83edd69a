// What the console's browser tests and the screenshot script share: Debian's chromium (installed with
// apt-get when missing, as deploy/local installs PostgreSQL; never a browser download: playwright-core only
// drives it), the built web application, and a hub with the console and tokens of every role.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { AdminServiceClient, TokenRole, type CreateTokenResponse } from '@smshub/contracts';
import { repoRoot, startHub, type Hub, type HubOptions } from '@smshub/testing';
import { chromium, type Browser } from 'playwright-core';

// playwright-core never downloads a browser; this also keeps any other playwright package from trying.
process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The path of Debian's chromium, installing the package when it is missing and we are root. */
export function ensureChromium(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist`);
    return given;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error(
      'chromium is not installed; run: sudo apt-get install -y chromium (or set CHROMIUM_PATH)',
    );
  const r = spawnSync(
    'bash',
    [
      '-c',
      'apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends chromium >/dev/null',
    ],
    { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 },
  );
  const installed = CANDIDATES.find((p) => existsSync(p));
  if (r.status !== 0 || !installed) throw new Error('apt-get could not install chromium');
  return installed;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    // As root (CI, containers) chromium's sandbox cannot start; the pages are our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** Builds services/console/dist/web when it is missing or stale (the script npm start uses). */
export function ensureWebBuilt(): void {
  const script = path.join(repoRoot(), 'services/console/scripts/build-web.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0)
    throw new Error(`building the console's web application failed:\n${r.stdout}\n${r.stderr}`);
}

export interface ConsoleHub {
  hub: Hub;
  url: string;
  tokens: { admin: string; operations: string; finance: string; customer: string };
  /** The demo account's id. */
  accountId: string;
  admin: AdminServiceClient;
}

const SERVICES = ['admin', 'routing', 'ingress', 'egress', 'dlr', 'rating', 'console'];

/** A hub with the console (and stats when the checkout has it), plus a token of every role. */
export async function startConsoleHub(opts: Omit<HubOptions, 'services'>): Promise<ConsoleHub> {
  ensureWebBuilt();
  const withStats = existsSync(path.join(repoRoot(), 'services/stats/src/main.ts'));
  const hub = await startHub({
    ...opts,
    services: withStats ? [...SERVICES, 'stats'] : SERVICES,
    readyTimeoutMs: opts.readyTimeoutMs ?? 240_000,
  });
  try {
    const admin = new AdminServiceClient(`127.0.0.1:${hub.ports.admin}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('authorization', `Bearer ${hub.secrets.adminToken}`);
    const make = (name: string, role: TokenRole, accountId = '') =>
      new Promise<string>((resolve, reject) =>
        admin.createToken({ name, role, accountId }, md, (err: Error | null, res: CreateTokenResponse) =>
          err ? reject(err) : resolve(res.secret),
        ),
      );
    const accountId = await new Promise<string>((resolve, reject) =>
      admin.listAccounts({ pageSize: 10, pageToken: '', state: 0 }, md, (err, res) =>
        err ? reject(err) : resolve(res.accounts[0]?.id ?? ''),
      ),
    );
    const tokens = {
      admin: hub.secrets.adminToken,
      operations: await make('noc', TokenRole.TOKEN_ROLE_OPERATIONS),
      finance: await make('finance', TokenRole.TOKEN_ROLE_FINANCE),
      customer: await make('demo-api', TokenRole.TOKEN_ROLE_CUSTOMER, accountId),
    };
    return { hub, url: `http://127.0.0.1:${hub.ports.console}`, tokens, admin, accountId };
  } catch (err) {
    await hub.stop();
    throw err;
  }
}
