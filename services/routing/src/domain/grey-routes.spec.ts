import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LATENCY_POLICY,
  DEFAULT_PROBE_POLICY,
  demoteSuspected,
  demotes,
  implausibleLatency,
  latencyStats,
  probeOutcome,
  probeVerdict,
  type ProbeRecord,
} from './grey-routes.js';

const P = { ...DEFAULT_PROBE_POLICY, deadlineMs: 10_000, lateMs: 3_000, window: 5, minBad: 3 };
const NOW = 1_000_000;
const probe = (i: number, o: Partial<ProbeRecord>): ProbeRecord => ({
  messageId: `m${i}`,
  connectorId: 'c',
  sentAt: NOW - 60_000 + i * 1000,
  ...o,
});

describe('probeOutcome', () => {
  it('tells confirmed, late, unconfirmed, failed, lost and pending apart', () => {
    const sent = NOW - 20_000;
    const d = { sentAt: sent, receiptStatus: 'DELIVERED', receiptAt: sent + 500 };
    expect(probeOutcome(probe(0, { ...d, confirmedAt: sent + 900 }), NOW, P)).toBe('confirmed');
    expect(probeOutcome(probe(0, { ...d, confirmedAt: sent + 5_000 }), NOW, P)).toBe('late');
    expect(probeOutcome(probe(0, d), NOW, P)).toBe('unconfirmed');
    expect(probeOutcome(probe(0, { ...d, sentAt: NOW - 2_000 }), NOW, P)).toBe('pending');
    expect(probeOutcome(probe(0, { sentAt: sent, receiptStatus: 'UNDELIVERABLE' }), NOW, P)).toBe('failed');
    expect(probeOutcome(probe(0, { sentAt: sent }), NOW, P)).toBe('lost');
    // An MO before the receipt arrived still confirms the delivery.
    expect(probeOutcome(probe(0, { sentAt: sent, confirmedAt: sent + 300 }), NOW, P)).toBe('confirmed');
  });
});

describe('probeVerdict', () => {
  it('suspects fake receipts when most recent DELIVRD probes are never confirmed', () => {
    const ps = [0, 1, 2, 3].map((i) => probe(i, { receiptStatus: 'DELIVERED', receiptAt: 1 }));
    ps.push(probe(4, { receiptStatus: 'DELIVERED', receiptAt: NOW - 50_000, confirmedAt: NOW - 49_000 }));
    const v = probeVerdict(ps, NOW, P);
    expect(v.reasons).toEqual(['fake_receipts']);
    expect(v.tally).toMatchObject({ evaluated: 5, confirmed: 1, unconfirmed: 4, late: 0 });
    expect(v.tally.messageIds).toEqual(['m3', 'm2', 'm1', 'm0']);
    expect(v.passing).toBe(false);
  });

  it('suspects late delivery, ignores honest failures, and passes when the newest are confirmed', () => {
    const late = [0, 1, 2].map((i) =>
      probe(i, { receiptStatus: 'DELIVERED', receiptAt: NOW - 50_000, confirmedAt: NOW - 40_000 }),
    );
    expect(probeVerdict(late, NOW, P).reasons).toEqual(['late_delivery']);
    const failures = [0, 1, 2, 3].map((i) => probe(i, { receiptStatus: 'UNDELIVERABLE' }));
    expect(probeVerdict(failures, NOW, P)).toMatchObject({ reasons: [], passing: false });
    const recovered = [
      ...[0, 1, 2].map((i) => probe(i, { receiptStatus: 'DELIVERED', receiptAt: 1 })),
      ...[3, 4].map((i) =>
        probe(i, { receiptStatus: 'DELIVERED', receiptAt: NOW - 50_000, confirmedAt: NOW - 49_500 }),
      ),
    ];
    const v = probeVerdict(recovered, NOW, P);
    expect(v.passing).toBe(true);
    expect(v.reasons).toEqual(['fake_receipts']); // still 3 of 5 bad: the caller clears on passing
  });

  it('needs minBad bad probes: one fake among confirmed ones is not a suspicion', () => {
    const ps = [0, 1, 2, 3].map((i) =>
      probe(i, { receiptStatus: 'DELIVERED', receiptAt: NOW - 50_000, confirmedAt: NOW - 49_000 }),
    );
    ps.push(probe(5, { receiptStatus: 'DELIVERED', receiptAt: 1 }));
    expect(probeVerdict(ps, NOW, P).reasons).toEqual([]);
  });
});

describe('latency statistics', () => {
  it('flags instant receipts and implausibly uniform ones, not a real spread', () => {
    const instant = Array.from({ length: 200 }, (_, i) => 100 + (i % 7) * 50);
    const s = latencyStats(instant, 1000);
    expect(s.instantShare).toBe(1);
    expect(implausibleLatency(s, DEFAULT_LATENCY_POLICY)).toBe(true);
    const uniform = Array.from({ length: 200 }, (_, i) => 5000 + (i % 3));
    const u = latencyStats(uniform, 1000);
    expect(u.cv).toBeLessThan(0.01);
    expect(implausibleLatency(u, DEFAULT_LATENCY_POLICY)).toBe(true);
    // Handsets: from a second to a minute, skewed.
    const real = Array.from({ length: 200 }, (_, i) => 800 + ((i * 7919) % 200) ** 2);
    const r = latencyStats(real, 1000);
    expect(r.instantShare).toBeLessThan(0.2);
    expect(implausibleLatency(r, DEFAULT_LATENCY_POLICY)).toBe(false);
    expect(implausibleLatency(latencyStats(instant.slice(0, 50), 1000), DEFAULT_LATENCY_POLICY)).toBe(false);
    expect(latencyStats([], 1000).samples).toBe(0);
    expect(latencyStats([10, 20, 30], 1000).medianMs).toBe(20);
  });
});

describe('demotion', () => {
  const cands = [
    { connectorId: 'grey', reason: 'cheapest' },
    { connectorId: 'a', reason: 'second' },
    { connectorId: 'b', reason: 'third' },
  ];
  it('moves suspected connectors last, saying why, and keeps the rest in order', () => {
    const out = demoteSuspected(cands, (id) => (id === 'grey' ? 'fake receipts' : undefined));
    expect(out.map((c) => c.connectorId)).toEqual(['a', 'b', 'grey']);
    expect(out[2]?.reason).toBe('cheapest; demoted: suspected grey route (fake receipts)');
    expect(demoteSuspected(cands, () => undefined)).toBe(cands);
  });
  it('is on by default for OTP only; a rule setting wins', () => {
    expect(demotes(undefined, 'OTP')).toBe(true);
    expect(demotes(undefined, 'MARKETING')).toBe(false);
    expect(demotes(true, 'MARKETING')).toBe(true);
    expect(demotes(false, 'OTP')).toBe(false);
  });
});
