import { describe, expect, it } from 'vitest';
import { shortLocation, summariseProfile, type CpuProfile } from './profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

describe('CPU profile summary', () => {
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 10_000,
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 3, 4, 5] },
      { id: 2, callFrame: frame('(idle)') },
      { id: 3, callFrame: frame('encodePdu', 'file:///repo/libs/smpp/src/codec.ts', 9) },
      { id: 4, callFrame: frame('encodePdu', 'file:///repo/libs/smpp/src/codec.ts', 9) },
      { id: 5, callFrame: frame('', 'file:///repo/node_modules/kafkajs/src/producer.js', 0) },
    ],
    // Each sample's time runs until the next one: 3 -> 4000 µs, 4 -> 2000, 5 -> 2000, 2 -> 2000, last -> 0.
    samples: [3, 4, 5, 2, 3],
    timeDeltas: [0, 4000, 2000, 2000, 2000],
  };

  it('adds up self time per function and location, leaves idle time out of the shares', () => {
    const s = summariseProfile(profile);
    expect(s.idleMs).toBe(2);
    expect(s.busyMs).toBe(8);
    expect(s.top).toEqual([
      { name: 'encodePdu (libs/smpp/src/codec.ts:10)', selfMs: 6, percent: 75 },
      { name: '(anonymous) (kafkajs/src/producer.js:1)', selfMs: 2, percent: 25 },
    ]);
  });

  it('falls back to hit counts when there is no sample timeline', () => {
    const s = summariseProfile({
      startTime: 0,
      endTime: 3000,
      nodes: [
        { id: 1, callFrame: frame('a', '/x/services/dlr/src/a.ts', 1), hitCount: 2 },
        { id: 2, callFrame: frame('b'), hitCount: 1 },
      ],
    });
    expect(s.top.map((f) => [f.name, f.selfMs])).toEqual([
      ['a (services/dlr/src/a.ts:2)', 2],
      ['b', 1],
    ]);
  });

  it('shortens locations', () => {
    expect(shortLocation('', 3)).toBe('');
    expect(shortLocation('node:internal/streams/readable', 4)).toBe('node:internal/streams/readable:5');
  });
});
