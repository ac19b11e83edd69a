import { describe, expect, it } from 'vitest';
import { CommandStatus } from '@smshub/smpp';
import { buildSpecs, ConfigProblem, parseConfigFile, parseFlags, parseRange, parseStatus } from './config.js';

const noFlags = parseFlags([]);

describe('parse helpers', () => {
  it('reads ranges and statuses in every spelling', () => {
    expect(parseRange('--latency', '20')).toBe(20);
    expect(parseRange('--latency', '10-50')).toEqual({ min: 10, max: 50 });
    expect(() => parseRange('--latency', 'soon')).toThrow(ConfigProblem);
    expect(parseStatus('ESME_RTHROTTLED')).toBe(CommandStatus.ESME_RTHROTTLED);
    expect(parseStatus('esme_rmsgqful')).toBe(CommandStatus.ESME_RMSGQFUL);
    expect(parseStatus('0x45')).toBe(0x45);
    expect(parseStatus('88')).toBe(88);
    expect(() => parseStatus('ESME_NOPE')).toThrow(/unknown command_status/);
  });
});

describe('buildSpecs', () => {
  it('defaults to one simulator on 2776 (or SIM_SMPP_PORT) accepting any bind', () => {
    const [s, more] = buildSpecs([], {}, noFlags);
    expect(more).toBeUndefined();
    expect(s).toMatchObject({ name: 'sim-2776', port: 2776, host: '127.0.0.1' });
    expect(s?.options.systemId).toBeUndefined();
    expect(buildSpecs([], { SIM_SMPP_PORT: 2999 }, noFlags)[0]?.port).toBe(2999);
  });

  it('layers file < environment < flags', () => {
    const entries = parseConfigFile(
      JSON.stringify({
        port: 3000,
        tpsCap: 50,
        errorRates: { ESME_RSYSERR: 0.1 },
        receipts: { idStyle: 'decimal' },
      }),
    );
    const env = { SIM_SYSTEM_ID: 'smshub', SIM_PASSWORD: 'devonly', SIM_SMPP_PORT: 2776 };
    const [fromFile] = buildSpecs(entries, env, noFlags);
    expect(fromFile).toMatchObject({
      port: 3000,
      options: {
        tpsCap: 50,
        systemId: 'smshub',
        password: 'devonly',
        errorRates: { [CommandStatus.ESME_RSYSERR]: 0.1 },
        receipts: { idStyle: 'decimal' },
      },
    });
    const flags = parseFlags([
      '--port=4000',
      '--tps=10',
      '--receipt-mix',
      'DELIVRD=90,UNDELIV=10',
      '--error-rate',
      '0x58=0.01',
      '--latency',
      '5-15',
      '--carrier',
      'tlv',
      '--intermediate',
      '--system-id',
      'other',
    ]);
    const [s] = buildSpecs(entries, env, flags);
    expect(s).toMatchObject({
      port: 4000,
      options: {
        tpsCap: 10,
        systemId: 'other',
        acceptLatencyMs: { min: 5, max: 15 },
        errorRates: { 0x58: 0.01 },
        receipts: {
          idStyle: 'decimal',
          mix: { DELIVRD: 90, UNDELIV: 10 },
          carrier: 'tlv',
          intermediate: true,
        },
      },
    });
  });

  it('runs a list of simulators, each with its own port and behaviour', () => {
    const entries = parseConfigFile(
      JSON.stringify({
        simulators: [
          { name: 'good-net', port: 2776, receipts: { mix: { DELIVRD: 98, UNDELIV: 2 } } },
          {
            name: 'bad-net',
            port: 2777,
            tpsCap: 20,
            receipts: { mix: { DELIVRD: 60, EXPIRED: 40 }, idStyle: 'decimal' },
          },
        ],
      }),
    );
    const specs = buildSpecs(entries, { SIM_PASSWORD: 'pw' }, parseFlags(['--seed', '7']));
    expect(specs.map((s) => [s.name, s.port, s.options.password, s.options.seed])).toEqual([
      ['good-net', 2776, 'pw', 7],
      ['bad-net', 2777, 'pw', 7],
    ]);
    expect(() => buildSpecs(entries, {}, parseFlags(['--port', '1']))).toThrow(/single simulator/);
  });

  it('refuses bad configuration with a message naming it', () => {
    expect(() => parseConfigFile('{not json')).toThrow(/not JSON/);
    expect(() => parseConfigFile('{"simulators": []}')).toThrow(/non-empty list/);
    expect(() => buildSpecs(parseConfigFile('{"receipts": {"mix": {"LOST": 1}}}'), {}, noFlags)).toThrow(
      /unknown stat LOST/,
    );
    expect(() => buildSpecs([], {}, parseFlags(['--error-rate', 'ESME_RSYSERR=2']))).toThrow(
      /between 0 and 1/,
    );
    expect(() => buildSpecs([], {}, parseFlags(['--tps', 'lots']))).toThrow(/--tps/);
    expect(() =>
      buildSpecs(parseConfigFile('{"simulators": [{"port": 1}, {"port": 1}]}'), {}, noFlags),
    ).toThrow(/share a port/);
    expect(() => buildSpecs([], {}, parseFlags(['--tls-cert', 'a.pem']))).toThrow(
      /both a certificate and a key/,
    );
    expect(() => parseFlags(['--bogus'])).toThrow();
  });
});

describe('grey-route networks', () => {
  it('reads handsets, fake receipts and late delivery from flags and the file', () => {
    const [s] = buildSpecs(
      [],
      {},
      parseFlags([
        '--handsets',
        '447700900001,+447700900002',
        '--fake-receipts',
        '0.5/4477,4478',
        '--late-delivery',
        '20000-40000/0.25',
      ]),
    );
    expect(s?.options.handsets).toEqual({ numbers: ['447700900001', '+447700900002'] });
    expect(s?.options.fakeReceipts).toEqual({ share: 0.5, prefixes: ['4477', '4478'] });
    expect(s?.options.lateDelivery).toEqual({ delayMs: { min: 20000, max: 40000 }, share: 0.25 });
    const [f] = buildSpecs(
      parseConfigFile('{"fakeReceipts": {"share": 1}, "handsets": {"numbers": ["447700900001"]}}'),
      {},
      noFlags,
    );
    expect(f?.options.fakeReceipts).toEqual({ share: 1 });
  });

  it('refuses a bad share, prefix or number, naming it', () => {
    expect(() => buildSpecs([], {}, parseFlags(['--fake-receipts', '2']))).toThrow(/--fake-receipts/);
    expect(() => buildSpecs([], {}, parseFlags(['--fake-receipts', '1/44x']))).toThrow(/prefixes/);
    expect(() => buildSpecs([], {}, parseFlags(['--handsets', 'abc']))).toThrow(/handsets.numbers/);
    expect(() => buildSpecs([], {}, parseFlags(['--late-delivery', 'later']))).toThrow(/--late-delivery/);
  });
});
