import { describe, expect, it } from 'vitest';
import { connectionSettings } from './rpc.js';

describe('connection settings', () => {
  it('uses the defaults without flags or environment', () => {
    const s = connectionSettings({}, {});
    expect(s.addresses).toEqual({
      admin: '127.0.0.1:50051',
      messages: '127.0.0.1:50052',
      settlement: '127.0.0.1:50053',
      webhooks: '127.0.0.1:50054',
      stats: '127.0.0.1:50055',
      routing: '127.0.0.1:50057',
    });
    expect(s.token).toBeUndefined();
    expect(s.tls).toBe(false);
    expect(s.timeoutMs).toBe(30_000);
  });

  it('takes HUBCTL_* variables, ADMIN_TOKEN as a fallback, and flags over both', () => {
    const env = {
      HUBCTL_ADMIN_ADDR: 'admin.hub:443',
      HUBCTL_TOKEN: 'from-env',
      ADMIN_TOKEN: 'fallback',
      HUBCTL_CA: '/etc/hub/ca.pem',
    };
    const s = connectionSettings({ messagesAddr: 'dlr.hub:50052', timeout: '2.5' }, env);
    expect(s.addresses.admin).toBe('admin.hub:443');
    expect(s.addresses.messages).toBe('dlr.hub:50052');
    expect(s.token).toBe('from-env');
    expect(s.tls).toBe(true);
    expect(s.timeoutMs).toBe(2500);
    expect(connectionSettings({}, { ADMIN_TOKEN: 'fallback' }).token).toBe('fallback');
    expect(connectionSettings({ token: 'flag' }, env).token).toBe('flag');
  });

  it('moves every default port up by HUB_PORT_OFFSET; explicit addresses stay as given', () => {
    const env = { HUB_PORT_OFFSET: '500', HUBCTL_SETTLEMENT_ADDR: 'rating.hub:50053' };
    expect(connectionSettings({}, env).addresses).toEqual({
      admin: '127.0.0.1:50551',
      messages: '127.0.0.1:50552',
      settlement: 'rating.hub:50053',
      webhooks: '127.0.0.1:50554',
      stats: '127.0.0.1:50555',
      routing: '127.0.0.1:50557',
    });
    expect(connectionSettings({ adminAddr: '10.0.0.1:7000' }, env).addresses.admin).toBe('10.0.0.1:7000');
    expect(connectionSettings({}, { HUB_PORT_OFFSET: '0' }).addresses.messages).toBe('127.0.0.1:50052');
    expect(connectionSettings({}, { HUB_PORT_OFFSET: ' ' }).addresses.messages).toBe('127.0.0.1:50052');
  });

  it('refuses a HUB_PORT_OFFSET that is not an integer 0..15000 as a usage error', () => {
    for (const bad of ['-1', '15001', '1.5', 'abc'])
      expect(() => connectionSettings({}, { HUB_PORT_OFFSET: bad })).toThrow(
        /HUB_PORT_OFFSET must be an integer 0\.\.15000/,
      );
  });

  it('takes the name the certificate must hold, which implies TLS, and refuses one that is not a name', () => {
    expect(connectionSettings({ tlsServerName: 'rel-smshub-admin' }, {})).toMatchObject({
      tls: true,
      tlsServerName: 'rel-smshub-admin',
    });
    expect(connectionSettings({}, { HUBCTL_TLS_SERVER_NAME: 'admin.hub' }).tlsServerName).toBe('admin.hub');
    expect(connectionSettings({}, {}).tlsServerName).toBeUndefined();
    expect(() => connectionSettings({ tlsServerName: 'a b' }, {})).toThrow(
      /--tls-server-name must be a DNS name/,
    );
  });

  it('refuses a malformed address or timeout as a usage error', () => {
    expect(() => connectionSettings({ adminAddr: 'http://x' }, {})).toThrow(/--admin-addr must be host:port/);
    expect(() => connectionSettings({ timeout: '0' }, {})).toThrow(/--timeout/);
  });
});
