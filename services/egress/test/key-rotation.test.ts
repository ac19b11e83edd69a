// A CONNECTOR_SECRET_KEY rotation as docs/security.md describes it, against a real PostgreSQL: egress opens
// passwords sealed under the old key while CONNECTOR_SECRET_KEY_PREVIOUS lists it, `ops reseal-connectors`
// (the real command, as a process) moves every row under the new key, after which egress needs only the
// new key. Rows no key opens are reported by id and the command exits non-zero.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, DEFAULT_MIGRATIONS_DIR, migrate, type Pool } from '@smshub/db';
import { createTestDatabase, repoRoot, type TestDatabase } from '@smshub/testing';
import { ConnectorStore, type ConnectorInput } from '../src/connector-store.js';

let db: TestDatabase;
let pool: Pool;
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const b64 = (k: Buffer) => k.toString('base64');

function connector(id: string, password: string): ConnectorInput {
  return {
    id,
    name: id,
    enabled: true,
    host: '127.0.0.1',
    port: 2775,
    tls: false,
    systemId: 'hub',
    password,
    systemType: '',
    interfaceVersion: 0x34,
    bindMode: 'transceiver',
    sessions: 1,
    windowSize: 10,
    maxSubmitRate: 100,
    responseTimeoutMs: 2000,
    enquireLinkMs: 5000,
    dataCodings: [0],
    gsm7Packed: false,
    segmentation: 'udh8',
    messageIdFormat: 'hex_resp_decimal_receipt',
    receiptTimeZone: 'UTC',
    defaultSourceTon: 0,
    defaultSourceNpi: 0,
  };
}

/** `ops reseal-connectors` as an operator runs it. */
function reseal(
  current: Buffer,
  previous: Buffer[],
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [
      '--conditions=@smshub/source',
      '--import',
      'tsx',
      path.join(repoRoot(), 'tools/ops/src/main.ts'),
      'reseal-connectors',
    ],
    {
      cwd: repoRoot(),
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: db.url,
        LOG_LEVEL: 'warn',
        CONNECTOR_SECRET_KEY: b64(current),
        CONNECTOR_SECRET_KEY_PREVIOUS: previous.map(b64).join(','),
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function passwords(store: ConnectorStore) {
  const { connectors, errors } = await store.loadAll();
  return {
    opened: Object.fromEntries(connectors.map((c) => [c.id, c.password])),
    failed: errors.map((e) => e.connectorId).sort(),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool({ connectionString: db.url, max: 4 });
  await migrate(pool, { dir: DEFAULT_MIGRATIONS_DIR });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('CONNECTOR_SECRET_KEY rotation', () => {
  it('keeps every connector usable while the key changes, and ends with the new key alone', async () => {
    // Before: admin and egress use the old key.
    const before = new ConnectorStore(pool, oldKey);
    await before.upsert(connector('con_a', 'pw-a'));
    await before.upsert(connector('con_b', 'pw-b'));

    // Step 1: egress gets the new key and the old one as previous; admin (sealing) the new key.
    const egress = new ConnectorStore(pool, newKey, [oldKey]);
    const admin = new ConnectorStore(pool, newKey);
    await admin.upsert(connector('con_c', 'pw-c'));
    expect(await passwords(egress)).toEqual({
      opened: { con_a: 'pw-a', con_b: 'pw-b', con_c: 'pw-c' },
      failed: [],
    });
    // Without the previous key the old rows would not open: that is what step 1 is for.
    expect((await passwords(new ConnectorStore(pool, newKey))).failed).toEqual(['con_a', 'con_b']);

    // Step 2: re-seal what only the old key opens.
    const r = reseal(newKey, [oldKey]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      're-sealed 2 connector password(s) under the new key (con_a, con_b); 1 already under it\n',
    );

    // Step 3: the new key alone opens everything; a second run finds nothing to do.
    expect(await passwords(new ConnectorStore(pool, newKey))).toEqual({
      opened: { con_a: 'pw-a', con_b: 'pw-b', con_c: 'pw-c' },
      failed: [],
    });
    expect(await passwords(new ConnectorStore(pool, oldKey))).toMatchObject({ opened: {} });
    expect(reseal(newKey, [oldKey]).stdout).toBe(
      're-sealed 0 connector password(s) under the new key; 3 already under it\n',
    );
  });

  it('names the rows no key opens and exits non-zero, leaving them as they are', async () => {
    const lost = randomBytes(32);
    await new ConnectorStore(pool, lost).upsert(connector('con_lost', 'pw-x'));
    const r = reseal(newKey, [oldKey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ops reseal-connectors failed: 1 connector password\(s\) open with none of the keys and were left as they are: con_lost /,
    );
    expect(await passwords(new ConnectorStore(pool, lost))).toMatchObject({ opened: { con_lost: 'pw-x' } });
  });
});
