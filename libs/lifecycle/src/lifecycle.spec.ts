import { Writable } from 'node:stream';
import { createLogger } from '@smshub/logging';
import { waitFor } from '@smshub/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLifecycle, fatal, type Lifecycle } from './index.js';

function setup(graceMs = 1_000) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ service: 'spec', destination });
  const exit = vi.fn<(code: number) => void>();
  const lc = createLifecycle({ service: 'spec', logger, httpPort: 0, graceMs, exit });
  return { lc, exit, lines };
}

const created: Lifecycle[] = [];
afterEach(async () => {
  // Releases any signal listeners a test left behind.
  for (const lc of created.splice(0)) await lc.shutdown('test cleanup');
});

describe('shutdown', () => {
  it('runs steps in reverse order of registration and returns 0', async () => {
    const { lc, exit } = setup();
    const order: string[] = [];
    lc.onShutdown('close pool', () => void order.push('pool'));
    lc.onShutdown('flush producer', async () => {
      await Promise.resolve();
      order.push('producer');
    });
    lc.onShutdown('stop consumer', () => void order.push('consumer'));
    expect(await lc.shutdown('test')).toBe(0);
    expect(order).toEqual(['consumer', 'producer', 'pool']);
    expect(lc.live).toBe(true);
    expect(exit).not.toHaveBeenCalled();
  });

  it('is idempotent: a second call returns the same result and runs nothing again', async () => {
    const { lc } = setup();
    const step = vi.fn();
    lc.onShutdown('step', step);
    const [a, b] = await Promise.all([lc.shutdown('one'), lc.shutdown('two')]);
    expect([a, b, await lc.shutdown('three')]).toEqual([0, 0, 0]);
    expect(step).toHaveBeenCalledTimes(1);
  });

  it('keeps going after a failing step, logs it and returns 1', async () => {
    const { lc, lines } = setup();
    const ran: string[] = [];
    lc.onShutdown('first', () => void ran.push('first'));
    lc.onShutdown('broken', () => {
      throw new Error('flush failed');
    });
    expect(await lc.shutdown('test')).toBe(1);
    expect(ran).toEqual(['first']);
    const failure = lines.find((l) => l['msg'] === 'shutdown step failed');
    expect(failure).toMatchObject({ step: 'broken', err: { message: 'flush failed' } });
  });

  it('bounds a step that never resolves by the grace period, then skips the rest and returns 1', async () => {
    const { lc, lines } = setup(50);
    expect(lc.live).toBe(true);
    const later = vi.fn();
    lc.onShutdown('after the hang', later);
    lc.onShutdown('hangs', () => new Promise<void>(() => undefined));
    expect(await lc.shutdown('test')).toBe(1);
    expect(lc.live).toBe(false); // /livez answers 503 from here on
    expect(later).not.toHaveBeenCalled();
    expect(lines.find((l) => l['msg'] === 'shutdown step failed')).toMatchObject({
      step: 'hangs',
      err: { message: expect.stringContaining('did not finish within the remaining grace period') },
    });
    expect(lines.find((l) => l['msg'] === 'shutdown step skipped: grace period exhausted')).toMatchObject({
      step: 'after the hang',
    });
  });

  it('runs a step registered while the shutdown runs next, and drops one registered after the steps ran', async () => {
    const { lc, lines } = setup();
    const order: string[] = [];
    let resolveSlow!: () => void;
    lc.onShutdown('first registered', () => void order.push('first registered'));
    lc.onShutdown('slow', () =>
      new Promise<void>((r) => (resolveSlow = r)).then(() => void order.push('slow')),
    );
    const done = lc.shutdown('test');
    await waitFor(() => resolveSlow !== undefined);
    lc.onShutdown('during', () => void order.push('during'));
    resolveSlow();
    expect(await done).toBe(0);
    expect(order).toEqual(['slow', 'during', 'first registered']);
    const after = vi.fn();
    lc.onShutdown('after', after);
    await lc.shutdown('again');
    expect(after).not.toHaveBeenCalled();
    expect(lines.find((l) => l['step'] === 'after')).toMatchObject({
      msg: 'shutdown step registered after the shutdown steps ran; it will not run',
    });
  });
});

describe('shutdown during start-up', () => {
  it('waits for the start-up, then runs the steps it registered meanwhile before the earlier ones', async () => {
    const { lc } = setup();
    const order: string[] = [];
    lc.onShutdown('pool', () => void order.push('pool'));
    let finishStart!: () => void;
    const startup = new Promise<void>((r) => (finishStart = r)).then(() => {
      // what start creates after the signal, and its step
      order.push('created');
      lc.onShutdown('service', () => void order.push('service stopped'));
    });
    lc.starting(startup);
    const done = lc.shutdown('signal during start');
    lc.onShutdown('consumers', () => void order.push('consumers stopped'));
    await Promise.resolve();
    expect(order).toEqual([]); // nothing stopped while start is still creating
    finishStart();
    expect(await done).toBe(0);
    expect(order).toEqual(['created', 'service stopped', 'consumers stopped', 'pool']);
  });

  it('a start-up that fails does not fail the shutdown', async () => {
    const { lc } = setup();
    const step = vi.fn();
    lc.onShutdown('step', step);
    lc.starting(Promise.reject(new Error('cut short')));
    expect(await lc.shutdown('test')).toBe(0);
    expect(step).toHaveBeenCalledTimes(1);
  });

  it('a start-up that never settles is bounded by the grace period: exit 1, not live', async () => {
    const { lc, lines } = setup(50);
    lc.starting(new Promise(() => undefined));
    expect(await lc.shutdown('test')).toBe(1);
    expect(lc.live).toBe(false);
    expect(lines.find((l) => l['msg'] === 'shutdown step failed')).toMatchObject({
      step: 'wait for start-up to finish',
    });
  });

  it('a start-up that finished before the shutdown is not waited for', async () => {
    const { lc, lines } = setup();
    const started = Promise.resolve();
    lc.starting(started);
    await new Promise((r) => setImmediate(r));
    expect(await lc.shutdown('test')).toBe(0);
    expect(lines.some((l) => l['step'] === 'wait for start-up to finish')).toBe(false);
  });
});

describe('readiness', () => {
  it('starts not ready, flips with setReady and stays not ready once shutting down', async () => {
    const { lc } = setup();
    expect(lc.ready).toBe(false);
    lc.setReady(true);
    expect(lc.ready).toBe(true);
    lc.setReady(false);
    expect(lc.ready).toBe(false);
    lc.setReady(true);
    let readyDuringStep: boolean | undefined;
    lc.onShutdown('observe', () => void (readyDuringStep = lc.ready));
    const done = lc.shutdown('test');
    expect(lc.shuttingDown).toBe(true);
    expect(lc.ready).toBe(false);
    lc.setReady(true);
    expect(lc.ready).toBe(false);
    await done;
    expect(readyDuringStep).toBe(false);
  });
});

describe('signals', () => {
  it('shuts down on the first SIGTERM and exits with the code', async () => {
    const { lc, exit } = setup();
    created.push(lc);
    const step = vi.fn();
    lc.onShutdown('step', step);
    const before = process.listenerCount('SIGTERM');
    lc.trapSignals();
    lc.trapSignals(); // trapped once
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM');
    await waitFor(() => exit.mock.calls.length > 0);
    expect(exit).toHaveBeenCalledWith(0);
    expect(step).toHaveBeenCalledTimes(1);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('forces exit 1 on a second signal during the drain', async () => {
    const { lc, exit } = setup(5_000);
    created.push(lc);
    let release!: () => void;
    lc.onShutdown('drain', () => new Promise<void>((r) => (release = r)));
    lc.trapSignals();
    process.emit('SIGINT');
    await waitFor(() => release !== undefined);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGTERM');
    expect(exit).toHaveBeenCalledWith(1);
    release();
    await lc.shutdown('join');
  });

  it('exits with 1 when the signal-driven shutdown had a failing step', async () => {
    const { lc, exit } = setup();
    created.push(lc);
    lc.onShutdown('broken', () => Promise.reject(new Error('nope')));
    lc.trapSignals();
    process.emit('SIGTERM');
    await waitFor(() => exit.mock.calls.length > 0);
    expect(exit).toHaveBeenCalledWith(1);
  });
});

describe('fatal', () => {
  it('logs the error as fatal and exits 1', () => {
    const { lines } = setup();
    const logger = createLogger({
      service: 'spec',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          cb();
        },
      }),
    });
    const exit = vi.fn();
    expect(() => fatal(logger, new Error('cannot bind'), 'start-up failed', exit)).toThrow('cannot bind');
    expect(exit).toHaveBeenCalledWith(1);
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      msg: 'start-up failed',
      err: { message: 'cannot bind' },
    });
  });
});
