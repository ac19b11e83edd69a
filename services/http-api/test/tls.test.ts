// HTTPS (HTTP_API_TLS_CERT_FILE / _KEY_FILE) with the hub's one TLS policy, over real TLS: a client that
// offers a modern suite sends a message; one that offers only CBC suites (or TLS 1.1) is refused.
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '@smshub/testing';
import { Harness, type Replica } from './harness.js';

/** The suite a TLS 1.2 client offering only `ciphers` gets, or the handshake's error code. */
function handshake(port: number, ciphers: string, minVersion?: 'TLSv1.1'): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ciphers,
      maxVersion: minVersion ?? 'TLSv1.2',
      ...(minVersion ? { minVersion } : {}),
    });
    s.once('secureConnect', () => {
      resolve(s.getCipher().standardName);
      s.destroy();
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('http-api over HTTPS', () => {
  const h = new Harness();
  let r: Replica;
  let port: number;

  beforeAll(async () => {
    await h.setup();
    // RSA: Node's default suites for RSA still include CBC ones (ECDHE-RSA-AES128-SHA256), the policy's do not.
    const { cert, key } = selfSignedCert('rsa');
    r = await h.startReplica({ https: { cert, key } });
    port = Number(new URL(r.url).port);
  });
  afterAll(() => h.teardown());

  it('accepts ECDHE + AEAD suites and refuses CBC suites, DHE and TLS 1.1', async () => {
    expect(await handshake(port, 'ECDHE-RSA-AES128-GCM-SHA256')).toBe(
      'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    );
    for (const cbc of ['ECDHE-RSA-AES128-SHA256', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256'])
      expect(await handshake(port, cbc)).toMatch(/HANDSHAKE_FAILURE|ERR_SSL/);
    expect(await handshake(port, 'ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.1')).toMatch(
      /ERR_SSL|PROTOCOL|VERSION/,
    );
  });
});
