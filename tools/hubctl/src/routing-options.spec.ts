import { describe, expect, it } from 'vitest';
import { RoutingRule, type CreateRoutingRuleRequest, type UpdateRoutingRuleRequest } from '@smshub/contracts';
import {
  parseSenderPattern,
  parseSenderRewrite,
  parseStrategyOptions,
  parseTimeWindow,
} from './routing-options.js';
import { runWith } from './testing.js';

const echo = (field: string) => (req: Record<string, unknown>) => ({ [field]: req[field] });

describe('routing rule option flags', () => {
  it('reads globs and /regex/flags literals', () => {
    expect(parseSenderPattern('ACME*')).toEqual({ pattern: { $case: 'glob', value: 'ACME*' } });
    expect(parseSenderPattern('/^\\d{5}$/i')).toEqual({
      pattern: { $case: 'regex', value: '^\\d{5}$' },
      flags: 'i',
    });
    expect(parseSenderPattern('/a/b/')).toEqual({ pattern: { $case: 'regex', value: 'a/b' }, flags: '' });
    expect(() => parseSenderPattern('/x')).toThrow(/--sender: a regex is written \/pattern\/flags/);
    expect(() => parseSenderPattern(' ')).toThrow(/must not be empty/);
  });

  it('reads a time window as key=value with day ranges, or as JSON', () => {
    expect(parseTimeWindow('tz=Europe/London,days=fri-mon;wed,hours=09:00-17:00;22:00-06:00')).toEqual({
      timeZone: 'Europe/London',
      days: ['fri', 'sat', 'sun', 'mon', 'wed'],
      ranges: [
        { from: '09:00', to: '17:00' },
        { from: '22:00', to: '06:00' },
      ],
    });
    expect(
      parseTimeWindow('{"timeZone":"UTC","days":["sat"],"ranges":[{"from":"10:00","to":"12:00"}]}'),
    ).toEqual({ timeZone: 'UTC', days: ['sat'], ranges: [{ from: '10:00', to: '12:00' }] });
    expect(parseTimeWindow('tz=UTC')).toEqual({ timeZone: 'UTC', days: [], ranges: [] });
    expect(() => parseTimeWindow('days=mon')).toThrow(/tz is required/);
    expect(() => parseTimeWindow('tz=UTC,days=funday')).toThrow(/days are mon, tue/);
    expect(() => parseTimeWindow('tz=UTC,hours=9-5')).toThrow(/HH:MM-HH:MM/);
    expect(() => parseTimeWindow('{nope')).toThrow(/not valid JSON/);
  });

  it('reads strategy options from repeated key=value pairs', () => {
    expect(
      parseStrategyOptions([
        'min_samples=50',
        'prior_delivery_ratio=0.85,prior_p50_latency_ms=4000',
        'weight_quality=0.6,weight_cost=0.4',
      ]),
    ).toEqual({
      minSamples: 50,
      prior: { deliveryRatio: 0.85, p50LatencyMs: 4000 },
      weights: { quality: 0.6, cost: 0.4, latency: 0 },
    });
    expect(() => parseStrategyOptions(['prior_delivery_ratio=0.9'])).toThrow(/together/);
    expect(() => parseStrategyOptions(['weight_cost=lots'])).toThrow(/weight_cost must be a number/);
    expect(() => parseStrategyOptions(['speed=1'])).toThrow(/unknown key "speed"/);
  });

  it('reads a sender rewrite as a bare sender id or key=value', () => {
    expect(parseSenderRewrite('ACME')).toEqual({ sourceAddr: 'ACME', onlyIfSender: [] });
    expect(
      parseSenderRewrite('source_addr=+4930123,source_ton=1,source_npi=1,only_if_sender=ACME*;/^a/'),
    ).toEqual({
      sourceAddr: '+4930123',
      sourceTon: 1,
      sourceNpi: 1,
      onlyIfSender: [
        { pattern: { $case: 'glob', value: 'ACME*' } },
        { pattern: { $case: 'regex', value: '^a' }, flags: '' },
      ],
    });
    expect(() => parseSenderRewrite('source_ton=5')).toThrow(/source_addr is required/);
    expect(() => parseSenderRewrite('source_addr=A,source_ton=300')).toThrow(/between 0 and 255/);
  });

  it('sends the options on create, masks them on update, and shows them in the list table', async () => {
    const create = await runWith(
      [
        'routes',
        'create',
        'rr_de',
        '--prefix',
        '49',
        '--target',
        'con_a',
        '--sender',
        'ACME*',
        '--time-window',
        'tz=Europe/Berlin,days=mon-fri,hours=08:00-20:00',
        '--strategy-option',
        'min_samples=10',
        '--sender-rewrite',
        'ACMEDE',
      ],
      { createRoutingRule: echo('routingRule') },
    );
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);
    expect((create.calls[0]!.request as CreateRoutingRuleRequest).routingRule).toMatchObject({
      senders: [{ pattern: { $case: 'glob', value: 'ACME*' } }],
      timeWindow: { timeZone: 'Europe/Berlin', days: ['mon', 'tue', 'wed', 'thu', 'fri'] },
      strategyOptions: { minSamples: 10 },
      senderRewrite: { sourceAddr: 'ACMEDE', onlyIfSender: [] },
    });
    expect(create.stdout).toMatch(/senders\[0\]\.glob\s+│ ACME\*/);
    expect(create.stdout).toMatch(/sender_rewrite\.source_addr\s+│ ACMEDE/);

    const update = await runWith(
      ['routes', 'update', 'rr_de', '--sender', '/^bank/', '--clear', 'time_window,sender_rewrite'],
      { updateRoutingRule: echo('routingRule') },
    );
    expect(update.code).toBe(0);
    const req = update.calls[0]!.request as UpdateRoutingRuleRequest;
    expect(req.updateMask).toEqual(['senders', 'time_window', 'sender_rewrite']);
    expect(req.routingRule).toMatchObject({
      senders: [{ pattern: { $case: 'regex', value: '^bank' }, flags: '' }],
    });
    expect(req.routingRule!.timeWindow).toBeUndefined();
    expect(req.routingRule!.senderRewrite).toBeUndefined();

    const rule = RoutingRule.fromPartial({
      id: 'rr_de',
      strategy: 5,
      senders: [
        { pattern: { $case: 'glob', value: 'ACME*' } },
        { pattern: { $case: 'regex', value: '^\\d+$' } },
      ],
      timeWindow: { timeZone: 'Europe/Berlin', days: ['sat'], ranges: [{ from: '10:00', to: '12:00' }] },
      strategyOptions: { minSamples: 5, weights: { quality: 1, cost: 1, latency: 0 } },
      senderRewrite: {
        sourceAddr: 'ACMEDE',
        sourceTon: 5,
        onlyIfSender: [{ pattern: { $case: 'glob', value: 'ACME*' } }],
      },
    });
    const list = await runWith(['routes', 'list'], { listRoutingRules: () => ({ routingRules: [rule] }) });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('SCORE (min 5, weights q1 c1 l0)');
    expect(list.stdout).toContain('sender ACME*, sender /^\\d+$/i, when sat 10:00-12:00 Europe/Berlin');
    expect(list.stdout).toContain('ACMEDE (ton 5) if ACME*');
    const json = await runWith(['routes', 'list', '-o', 'json'], {
      listRoutingRules: () => ({ routingRules: [rule] }),
    });
    // proto3 JSON leaves out fields at their default (latency 0).
    expect(JSON.parse(json.stdout).routingRules[0]).toEqual({
      strategy: 'ROUTE_STRATEGY_SCORE',
      senders: [{ glob: 'ACME*' }, { regex: '^\\d+$' }],
      timeWindow: { timeZone: 'Europe/Berlin', days: ['sat'], ranges: [{ from: '10:00', to: '12:00' }] },
      strategyOptions: { minSamples: 5, weights: { quality: 1, cost: 1 } },
      senderRewrite: { sourceAddr: 'ACMEDE', sourceTon: 5, onlyIfSender: [{ glob: 'ACME*' }] },
      id: 'rr_de',
    });
  });
});
