import Module, { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import './client.js';

const require = createRequire(import.meta.url);

describe('kafkajs request builders with libs/kafka loaded', () => {
  it('build a Fetch v11 request without resolving module files again', () => {
    // kafkajs requires each request version's modules lazily, per request built; Node skips the
    // resolution only for a relative require that loaded the file itself (fetch-decoder.ts).
    const fetch = require('kafkajs/src/protocol/requests/fetch/index.js') as {
      protocol: (o: { version: number }) => (args: unknown) => { request: unknown };
    };
    const build = (): unknown =>
      fetch.protocol({ version: 11 })({ maxWaitTime: 50, minBytes: 1, topics: [] });
    build();
    const m = Module as unknown as { _resolveFilename: (...a: unknown[]) => string };
    const original = m._resolveFilename;
    let resolved = 0;
    m._resolveFilename = function (this: unknown, ...a: unknown[]) {
      resolved++;
      return original.apply(this, a);
    };
    try {
      for (let i = 0; i < 10; i++) build();
    } finally {
      m._resolveFilename = original;
    }
    expect(resolved).toBe(0);
  });
});
