// Issue 15 items 7, 10 and 11 across real processes (libs/testing startHub: admin and ingress on a shared
// broker and database, the CLI as a child process): an operator restricts an account's SMPP binds to one
// address with `hubctl accounts allowed-cidrs add`; ingress follows config.changes.v1 and refuses binds
// from elsewhere with ESME_RBINDFAIL while the allowed address binds; an unknown system_id is answered like
// a wrong password; ingress's /metrics names the account by its id, never by its system_id.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountState, BillingMode, ChargeOn, TrafficType } from '@smshub/contracts';
import { CommandStatus, connectSmpp, SmppError } from '@smshub/smpp';
import {
  createTestDatabase,
  repoRoot,
  startHub,
  testDatabaseUrl,
  testKafkaBrokers,
  waitFor,
  type Hub,
  type TestDatabase,
} from '@smshub/testing';
import { AdminApi } from '../src/admin-client.js';

const SYSTEM_ID = 'e2ecidr';
const PASSWORD = 'Cidr1234';

let db: TestDatabase;
let hub: Hub | undefined;
let admin: AdminApi | undefined;
let accountId = '';

/** Bind status (0 = bound) of a transmitter bind from `localAddress`. */
async function bindFrom(localAddress: string, systemId = SYSTEM_ID, password = PASSWORD): Promise<number> {
  try {
    const s = await connectSmpp({
      host: '127.0.0.1',
      port: hub!.ports.smpp,
      localAddress,
      systemId,
      password,
      bindType: 'transmitter',
      enquireLinkMs: 0,
    });
    await s.unbind().catch(() => s.destroy());
    return 0;
  } catch (e) {
    if (e instanceof SmppError && e.commandStatus) return e.commandStatus;
    throw e;
  }
}

/** hubctl as an operator runs it, against this hub's admin. */
function hubctl(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@smshub/source', '--import', 'tsx', 'tools/hubctl/src/main.ts', ...args],
      {
        cwd: repoRoot(),
        env: {
          PATH: process.env.PATH ?? '',
          HUBCTL_ADMIN_ADDR: `127.0.0.1:${hub!.ports.admin}`,
          HUBCTL_TOKEN: hub!.secrets.adminToken,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  db = await createTestDatabase(testDatabaseUrl());
  hub = await startHub({
    kafkaBrokers: testKafkaBrokers().join(','),
    databaseUrl: db.url,
    services: ['admin', 'ingress'],
    simulator: false,
    readyTimeoutMs: 240_000,
  });
  admin = new AdminApi(`127.0.0.1:${hub.ports.admin}`, hub.secrets.adminToken);
  const created = await admin.call('createAccount', {
    account: {
      id: '',
      name: 'e2e: allow list',
      state: AccountState.ACCOUNT_STATE_ACTIVE,
      billingMode: BillingMode.BILLING_MODE_POSTPAID,
      currencyCode: 'EUR',
      smppCredentials: [
        {
          systemId: SYSTEM_ID,
          passwordHash: '',
          allowedCidrs: [],
          maxBinds: 3,
          maxSubmitRate: 50,
          windowSize: 10,
          password: PASSWORD,
        },
      ],
      defaultTrafficType: TrafficType.TRAFFIC_TYPE_UNSPECIFIED,
      allowedSources: [],
      receiptIncludeText: false,
      messageIdFormat: '',
      revision: 0n,
      routingGroup: '',
      defaultCountry: '',
      pricePlanId: '',
      defaultValiditySeconds: 0,
      chargeOn: ChargeOn.CHARGE_ON_SUBMIT,
    },
  });
  accountId = created.account?.id ?? '';
  await waitFor(async () => (await bindFrom('127.0.0.3')) === 0, {
    timeoutMs: 30_000,
    intervalMs: 300,
    what: 'ingress to know the new account',
  });
}, 300_000);

afterAll(async () => {
  admin?.close();
  await hub?.stop();
  await db?.drop();
}, 120_000);

describe('SMPP bind security across admin, hubctl and ingress', { timeout: 180_000 }, () => {
  it('restricts binds to the addresses added with hubctl accounts allowed-cidrs', async () => {
    const added = await hubctl('accounts', 'allowed-cidrs', 'add', accountId, '127.0.0.2', '-o', 'json');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ systemId: SYSTEM_ID, allowedCidrs: ['127.0.0.2/32'] });
    await waitFor(async () => (await bindFrom('127.0.0.3')) === CommandStatus.ESME_RBINDFAIL, {
      timeoutMs: 30_000,
      intervalMs: 300,
      what: 'ingress to refuse 127.0.0.3 once the allow list is announced',
    });
    expect(await bindFrom('127.0.0.2')).toBe(0);
    // A bad network is refused by hubctl before the admin is called.
    const bad = await hubctl('accounts', 'allowed-cidrs', 'add', accountId, '127.0.0.9/24');
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('did you mean 127.0.0.0/24');
    // Removing the last network is refused; clear allows any address again.
    expect((await hubctl('accounts', 'allowed-cidrs', 'remove', accountId, '127.0.0.2')).code).toBe(64);
    expect((await hubctl('accounts', 'allowed-cidrs', 'clear', accountId)).code).toBe(0);
    await waitFor(async () => (await bindFrom('127.0.0.3')) === 0, {
      timeoutMs: 30_000,
      intervalMs: 300,
      what: 'ingress to accept 127.0.0.3 once the list is cleared',
    });
  });

  it('answers an unknown system_id like a wrong password', async () => {
    expect(await bindFrom('127.0.0.4', 'e2enobody', PASSWORD)).toBe(CommandStatus.ESME_RINVPASWD);
    expect(await bindFrom('127.0.0.4', SYSTEM_ID, 'wrong')).toBe(CommandStatus.ESME_RINVPASWD);
  });

  it("labels ingress's /metrics with the account id, never the system_id", async () => {
    const s = await connectSmpp({
      host: '127.0.0.1',
      port: hub!.ports.smpp,
      systemId: SYSTEM_ID,
      password: PASSWORD,
      bindType: 'transmitter',
      enquireLinkMs: 0,
    });
    try {
      const text = await (await fetch(`http://127.0.0.1:${hub!.ports.http.ingress}/metrics`)).text();
      expect(text).toContain(`smshub_ingress_binds{account="${accountId}"} 1`);
      expect(text).not.toContain(SYSTEM_ID);
    } finally {
      await s.unbind().catch(() => s.destroy());
    }
  });
});
