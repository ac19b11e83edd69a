import pg from 'pg';
import { uniqueName } from './helpers.js';
import { testDatabaseUrl } from './helpers.js';

export interface TestDatabase {
  /** Connection URL of the fresh, empty database. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (terminating leftover connections). */
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named database next to the run's admin database. */
export async function createTestDatabase(adminUrl: string = testDatabaseUrl()): Promise<TestDatabase> {
  const name = uniqueName('t');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        // FORCE ends the database's sessions, but a user that is not a superuser may not end an autovacuum
        // worker's (insufficient_privilege, seen on CI): such a worker finishes within moments, so try again.
        for (let attempt = 1; ; attempt++) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            break;
          } catch (err) {
            if ((err as { code?: string }).code !== '42501' || attempt >= 20) throw err;
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}
