import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert } from '@smshub/testing';
import { CommandStatus, createSmppServer, type SmppServer } from '../src/index.js';

/** What a TLS client offering only `ciphers` (TLS 1.2 or 1.3) gets from the server: the suite, or the error. */
function handshake(
  port: number,
  o: { ciphers?: string; version: 'TLSv1.2' | 'TLSv1.3' | 'TLSv1.1' },
): Promise<{ ok: true; cipher: string; version: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      minVersion: o.version,
      maxVersion: o.version,
      ...(o.ciphers !== undefined && { ciphers: o.ciphers }),
    });
    s.once('secureConnect', () => {
      resolve({ ok: true, cipher: s.getCipher().standardName, version: s.getProtocol() ?? '' });
      s.destroy();
    });
    s.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

/** OpenSSL's TLS 1.2 suites this Node knows (names in OpenSSL form, as `ciphers` takes them). */
const TLS12_SUITES = tls
  .getCiphers()
  .map((c) => c.toUpperCase())
  .filter((c) => !c.startsWith('TLS_') && !/PSK|SRP|ANON|NULL|ADH|AECDH/.test(c));

describe.each(['rsa', 'ec'] as const)('SMPP TLS listener with an %s certificate', (keyType) => {
  let server: SmppServer;
  let port: number;

  beforeAll(async () => {
    const { key, cert } = selfSignedCert(keyType);
    server = createSmppServer({
      tls: { key, cert },
      onBind: () => ({ status: CommandStatus.ESME_RBINDFAIL }),
    });
    port = (await server.listen(0, '127.0.0.1')).port;
  });
  afterAll(() => server.close({ graceMs: 100 }));

  it('negotiates on TLS 1.2 only ECDHE key exchange with AEAD ciphers, whatever the client offers', async () => {
    const accepted: string[] = [];
    for (const suite of TLS12_SUITES) {
      const r = await handshake(port, { version: 'TLSv1.2', ciphers: suite });
      if (r.ok) accepted.push(suite);
    }
    const sig = keyType === 'rsa' ? 'RSA' : 'ECDSA';
    expect(accepted.sort()).toEqual(
      [
        `ECDHE-${sig}-AES128-GCM-SHA256`,
        `ECDHE-${sig}-AES256-GCM-SHA384`,
        `ECDHE-${sig}-CHACHA20-POLY1305`,
      ].sort(),
    );
    // Printed for the record: what the server negotiates.
    console.log(`TLS 1.2 suites accepted with an ${keyType} certificate: ${accepted.join(', ')}`);
  });

  it('refuses CBC-SHA1 suites and RSA key exchange offered alone', async () => {
    for (const suite of [
      `ECDHE-${keyType === 'rsa' ? 'RSA' : 'ECDSA'}-AES128-SHA`,
      `ECDHE-${keyType === 'rsa' ? 'RSA' : 'ECDSA'}-AES256-SHA`,
      'AES128-GCM-SHA256',
      'AES256-SHA',
      'DHE-RSA-AES128-GCM-SHA256',
    ]) {
      const r = await handshake(port, { version: 'TLSv1.2', ciphers: suite });
      expect(r, suite).toMatchObject({ ok: false });
    }
  });

  it('refuses TLS 1.1; a default client gets TLS 1.3', async () => {
    expect(await handshake(port, { version: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).toMatchObject({
      ok: false,
    });
    const r = await handshake(port, { version: 'TLSv1.3' });
    expect(r).toMatchObject({ ok: true, version: 'TLSv1.3' });
    console.log(`TLS 1.3 with an ${keyType} certificate: ${r.ok ? r.cipher : ''}`);
  });
});
