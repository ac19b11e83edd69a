import { describe, expect, it } from 'vitest';
import { clientLabel, splitByClient, UNATTRIBUTED } from './pg-clients.js';

const backend = (port: number): string => `postgres: smshub t_abc 127.0.0.1(${port}) idle`;

describe('PostgreSQL CPU by client', () => {
  it('names a backend by its service, an auxiliary process by its role', () => {
    expect(clientLabel(backend(1), 'smshub-dlr')).toBe('dlr');
    expect(clientLabel(backend(1), 'psql')).toBe('psql');
    expect(clientLabel(backend(1), undefined)).toBe('other clients');
    expect(clientLabel('postgres: walwriter   ', undefined)).toBe('walwriter');
    expect(clientLabel('postgres: autovacuum worker t_abc', undefined)).toBe('autovacuum');
  });

  it("credits each backend's CPU in the window to its service and the rest to the remainder", () => {
    const before = [
      { pid: 1, title: backend(1), seconds: 10 },
      { pid: 2, title: backend(2), seconds: 5 },
      { pid: 3, title: 'postgres: walwriter', seconds: 1 },
      { pid: 9, title: backend(9), seconds: 4 }, // exits during the window
    ];
    const after = [
      { pid: 1, title: backend(1), seconds: 14 },
      { pid: 2, title: backend(2), seconds: 6 },
      { pid: 3, title: 'postgres: walwriter', seconds: 1.5 },
      { pid: 4, title: backend(4), seconds: 2 }, // opened during the window: counts whole
    ];
    const names = new Map([
      [1, 'smshub-dlr'],
      [2, 'smshub-ingress'],
      [4, 'smshub-dlr'],
    ]);
    expect(splitByClient(before, after, names, 9)).toEqual([
      { client: 'dlr', cpuSeconds: 6 },
      { client: 'ingress', cpuSeconds: 1 },
      { client: 'walwriter', cpuSeconds: 0.5 },
      { client: UNATTRIBUTED, cpuSeconds: 1.5 },
    ]);
  });
});
