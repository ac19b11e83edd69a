import { describe, expect, it } from 'vitest';
import {
  DEMO_CONNECTORS,
  DEMO_SELL_RATES,
  DemoError,
  bindInstructions,
  generatePassword,
  parsePrefixes,
  readPrefixes,
  simulatorConfig,
} from './demo.js';

const connectors = [
  { id: 'sim-good', host: '127.0.0.1', port: 2776, systemId: 'hub-good', password: 'aaaa1111' },
  { id: 'sim-poor', host: '127.0.0.1', port: 2777, systemId: 'hub-poor', password: 'bbbb2222' },
];

describe('ops demo: pure parts', () => {
  it('reads the sample prefix file, skipping comments and the header', () => {
    const rows = readPrefixes();
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.find((r) => r.prefix === '4474')).toEqual({
      prefix: '4474',
      country: 'GB',
      mcc: '234',
      mnc: '15',
      operator: 'Vodafone UK',
    });
  });

  it('refuses bad prefix lines with their line numbers', () => {
    expect(() => parsePrefixes('prefix,country,mcc,mnc,operator\n44x,GB,234,15,A\n', 'f.csv')).toThrow(
      DemoError,
    );
    expect(() => parsePrefixes('4474,GB,234,15,A\n4475,GB,234,1,B\n', 'f.csv')).toThrow(/line 2: bad MNC/);
  });

  it('prices every sell-rate country on both connectors, the poor one cheaper, the account dearer', () => {
    const [good, poor] = DEMO_CONNECTORS;
    for (const [country, sell] of Object.entries(DEMO_SELL_RATES)) {
      expect(poor?.buy[country]).toBeLessThan(good?.buy[country] as number);
      expect(sell).toBeGreaterThan(good?.buy[country] as number);
    }
  });

  it('demo profile: sim-poor refuses some submits and reports failures, sim-good mostly delivers', () => {
    const cfg = simulatorConfig(connectors, 'demo');
    const good = cfg.simulators.find((s) => s.name === 'sim-good');
    const poor = cfg.simulators.find((s) => s.name === 'sim-poor');
    expect(good).toMatchObject({ port: 2776, systemId: 'hub-good', password: 'aaaa1111' });
    expect(good?.errorRates).toBeUndefined();
    expect(good?.receipts.mix['DELIVRD']).toBeGreaterThanOrEqual(98);
    expect(poor).toMatchObject({ port: 2777, systemId: 'hub-poor', password: 'bbbb2222' });
    expect(Object.keys(poor?.errorRates ?? {})).toContain('ESME_RSYSERR');
    expect(poor?.receipts.mix).toHaveProperty('UNDELIV');
    expect(poor?.receipts.mix).toHaveProperty('EXPIRED');
  });

  it('bench profile: both answer at once and deliver everything', () => {
    for (const s of simulatorConfig(connectors, 'bench').simulators) {
      expect(s.acceptLatencyMs).toBeUndefined();
      expect(s.errorRates).toBeUndefined();
      expect(s.receipts).toEqual({ mix: { DELIVRD: 100 }, delayMs: 0 });
    }
  });

  it('bind instructions name host, ports, system_id, password and the send command', () => {
    const text = bindInstructions({
      host: '127.0.0.1',
      port: 2775,
      tlsPort: 3550,
      systemId: 'demo',
      password: 'pw',
    });
    expect(text).toContain('127.0.0.1');
    expect(text).toContain('2775 (plain), 3550 (TLS');
    expect(text).toContain('system_id  demo');
    expect(text).toContain('password   pw');
    expect(text).toContain('npm run send -- --to +447400123456');
    expect(text).not.toContain('HUB_PORT_OFFSET');
    const moved = bindInstructions({
      host: '127.0.0.1',
      port: 3275,
      systemId: 'demo',
      password: 'pw',
      portOffset: 500,
    });
    expect(moved).toContain('3275 (plain)');
    expect(moved).toContain('HUB_PORT_OFFSET=500 npm run send -- --to +447400123456');
  });

  it('generates 8-character alphanumeric SMPP passwords', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(generatePassword()).not.toBe(a);
  });
});
