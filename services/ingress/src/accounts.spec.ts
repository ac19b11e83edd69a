import { describe, expect, it } from 'vitest';
import { accountFromRow, ipAllowed, normaliseIp } from './accounts.js';

const row = {
  id: 'a',
  system_id: 'acme',
  password_hash: '$argon2id$x',
  enabled: true,
  allowed_cidrs: [] as string[],
  allowed_bind_types: ['transmitter'],
  max_binds: 1,
  tps_limit: 10,
  max_window: 10,
  default_validity_seconds: 60,
  default_traffic_type: 'OTP',
  price_plan_id: null,
  default_country: null,
  refuse_unrated: false,
};

describe('accounts', () => {
  it('allows any source without CIDRs, else only the listed networks (IPv4-mapped IPv6 included)', () => {
    expect(ipAllowed(accountFromRow(row), '203.0.113.9')).toBe(true);
    const a = accountFromRow({ ...row, allowed_cidrs: ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7/32'] });
    expect(ipAllowed(a, '10.1.200.3')).toBe(true);
    expect(ipAllowed(a, '::ffff:10.1.0.1')).toBe(true);
    expect(ipAllowed(a, '10.2.0.1')).toBe(false);
    expect(ipAllowed(a, '192.0.2.7')).toBe(true);
    expect(ipAllowed(a, '192.0.2.8')).toBe(false);
    expect(ipAllowed(a, '2001:db8::1')).toBe(true);
    expect(ipAllowed(a, '')).toBe(false);
    expect(normaliseIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(accountFromRow(row).allowedBindTypes.has('receiver')).toBe(false);
  });
});
