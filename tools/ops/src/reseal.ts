// `ops reseal-connectors`: the middle step of a CONNECTOR_SECRET_KEY rotation (docs/security.md). Every
// connector password in egress_connectors that opens only with a previous key is sealed again under the
// current key, in one transaction (rows locked, so an admin write in between waits). Rows already under
// the current key are left as they are; rows no key opens are reported and left as they are too.
import type { Pool } from '@smshub/db';
import { resealSecret, SecretBoxError } from '@smshub/secrets';

export interface ResealResult {
  /** Connector ids re-sealed under the current key. */
  resealed: string[];
  /** Rows already sealed under the current key. */
  alreadyCurrent: number;
  /** Connector ids whose password opens with none of the keys (left unchanged). */
  unopenable: string[];
}

export async function resealConnectors(
  pool: Pool,
  current: Buffer,
  previous: readonly Buffer[],
): Promise<ResealResult> {
  const out: ResealResult = { resealed: [], alreadyCurrent: 0, unopenable: [] };
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string; password_sealed: Buffer }>(
      `SELECT id, password_sealed FROM egress_connectors WHERE password_sealed IS NOT NULL ORDER BY id FOR UPDATE`,
    );
    for (const r of rows) {
      let sealed: Buffer | null;
      try {
        sealed = resealSecret(current, previous, r.password_sealed, r.id);
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        out.unopenable.push(r.id);
        continue;
      }
      if (sealed === null) {
        out.alreadyCurrent += 1;
        continue;
      }
      // Same password, same revision: nothing for egress to reload, so no config change is published.
      await client.query('UPDATE egress_connectors SET password_sealed = $2 WHERE id = $1', [r.id, sealed]);
      out.resealed.push(r.id);
    }
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
