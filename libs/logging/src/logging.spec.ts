import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createLogger, maskNumber } from './index.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, destination, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes JSON lines with the service name and level name', () => {
    const out = capture();
    const log = createLogger({ service: 'ingress', destination: out.destination });
    log.info({ messageId: 'm1' }, 'accepted');
    const [rec] = out.records();
    expect(rec).toMatchObject({ service: 'ingress', level: 'info', messageId: 'm1', msg: 'accepted' });
    expect(typeof rec!['time']).toBe('string');
  });

  it('never writes passwords, secrets or message text', () => {
    const out = capture();
    const log = createLogger({ service: 's', destination: out.destination, level: 'trace' });
    const child = log.child({ systemId: 'acme', password: 'bindpw-1' });
    child.info({ password: 'hunter2', token: 'tok-9', authorization: 'Bearer abc' }, 'bind');
    child.debug(
      { pdu: { password: 'pw-nested', short_message: 'Your code is 4242', text: 'hello there' } },
      'pdu',
    );
    child.warn(
      { sm: { shortMessage: 'secret-body', messagePayload: 'payload-body' }, text: 'top text' },
      'x',
    );
    child.error({ req: { secret: 'sss-1', message_payload: 'mp-body' } }, 'y');
    const all = out.lines.join('\n');
    for (const secret of [
      'bindpw-1',
      'hunter2',
      'tok-9',
      'Bearer abc',
      'pw-nested',
      '4242',
      'hello there',
      'secret-body',
      'payload-body',
      'top text',
      'sss-1',
      'mp-body',
    ]) {
      expect(all).not.toContain(secret);
    }
    expect(out.records()[1]).toMatchObject({ pdu: { password: '[redacted]', short_message: '[redacted]' } });
    expect(out.records()[0]).toMatchObject({ systemId: 'acme', password: '[redacted]' });
  });

  it('masks phone-number fields unless debugNumbers is on', () => {
    const masked = capture();
    createLogger({ service: 's', destination: masked.destination }).info(
      { destAddr: '447911123412', pdu: { source_addr: '+4915112345678' } },
      'submit',
    );
    expect(masked.records()[0]).toMatchObject({
      destAddr: '4479****12',
      pdu: { source_addr: '+4915****78' },
    });

    const clear = capture();
    createLogger({ service: 's', destination: clear.destination, debugNumbers: true }).info(
      { destAddr: '447911123412', password: 'pw' },
      'submit',
    );
    expect(clear.records()[0]).toMatchObject({ destAddr: '447911123412', password: '[redacted]' });
  });

  it('serialises errors under err with message and stack', () => {
    const out = capture();
    createLogger({ service: 's', destination: out.destination }).error({ err: new Error('boom') }, 'failed');
    expect(out.records()[0]).toMatchObject({ err: { type: 'Error', message: 'boom' } });
  });

  it('adds trace_id and span_id while a span is active', () => {
    // A minimal synchronous context manager, so the test does not depend on the SDK.
    let active: Context = ROOT_CONTEXT;
    const manager: ContextManager = {
      active: () => active,
      with(ctx, fn, thisArg, ...args) {
        const previous = active;
        active = ctx;
        try {
          return fn.call(thisArg, ...args);
        } finally {
          active = previous;
        }
      },
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    expect(context.setGlobalContextManager(manager)).toBe(true);
    try {
      const out = capture();
      const log = createLogger({ service: 's', destination: out.destination });
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
      };
      context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), () =>
        log.info('inside'),
      );
      log.info('outside');
      const [inside, outside] = out.records();
      expect(inside).toMatchObject({ trace_id: spanContext.traceId, span_id: spanContext.spanId });
      expect(outside).not.toHaveProperty('trace_id');
    } finally {
      context.disable();
    }
  });

  it('honours the level', () => {
    const out = capture();
    const log = createLogger({ service: 's', destination: out.destination, level: 'warn' });
    log.info('hidden');
    log.warn('shown');
    expect(out.records().map((r) => r['msg'])).toEqual(['shown']);
  });
});

describe('maskNumber', () => {
  it.each([
    ['447911123412', '4479****12'],
    ['+447911123412', '+4479****12'],
    ['4915112345678', '4915****78'],
    ['491511234', '4915****34'],
    ['49301234', '493****34'],
    ['4930123', '49****23'],
    ['85022', '85022'],
    ['', ''],
    ['MyBankLtd', 'MyBa****td'],
  ])('masks %s as %s', (input, expected) => {
    expect(maskNumber(input)).toBe(expected);
  });

  it('hides at least three characters of any number of 7 or more', () => {
    for (let n = 7; n <= 15; n++) {
      const num = '1234567890123456'.slice(0, n);
      const masked = maskNumber(num);
      const visible = masked.replace('****', '').length;
      expect(n - visible).toBeGreaterThanOrEqual(3);
    }
  });

  it('returns the number unchanged in debug mode', () => {
    expect(maskNumber('447911123412', true)).toBe('447911123412');
  });
});
