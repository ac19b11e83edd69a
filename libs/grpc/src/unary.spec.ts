import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@smshub/logging';
import { describe, expect, it } from 'vitest';
import { RpcError, unaryHandlers } from './unary.js';

class OtherStatusError extends Error {
  constructor(readonly code: grpc.status) {
    super('denied here');
  }
}

const lines: string[] = [];
const log = createLogger({
  service: 'unary-spec',
  level: 'error',
  destination: { write: (l: string) => void lines.push(l) },
});

function call<Res>(handler: grpc.handleUnaryCall<string, Res>): Promise<{ err: unknown; res: unknown }> {
  return new Promise((resolve) => {
    handler({ request: 'req' } as grpc.ServerUnaryCall<string, Res>, (err, res) => resolve({ err, res }));
  });
}

describe('unaryHandlers', () => {
  const unary = unaryHandlers(log, { clientErrors: [OtherStatusError] });

  it('answers with the result, or with the status and message of an RpcError or a client error class', async () => {
    expect(await call(unary('Ok', async (r: string) => `${r}!`))).toEqual({ err: null, res: 'req!' });
    const rpc = await call(
      unary('Bad', async () => {
        throw new RpcError(grpc.status.INVALID_ARGUMENT, 'bad field');
      }),
    );
    expect(rpc.err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: 'bad field' });
    const other = await call(
      unary('Denied', async () => {
        throw new OtherStatusError(grpc.status.PERMISSION_DENIED);
      }),
    );
    expect(other.err).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'denied here' });
  });

  it('hides anything else behind INTERNAL and logs it with the rpc name', async () => {
    const r = await call(
      unary('Boom', () => {
        throw new Error('pool exhausted at 10.0.0.5');
      }),
    );
    expect(r.err).toMatchObject({ code: grpc.status.INTERNAL, details: 'internal error' });
    expect(lines.some((l) => l.includes('"rpc":"Boom"') && l.includes('pool exhausted'))).toBe(true);
  });

  it('says whether a retry can help', () => {
    expect(new RpcError(grpc.status.UNAVAILABLE, 'x').retriable).toBe(true);
    expect(new RpcError(grpc.status.NOT_FOUND, 'x').retriable).toBe(false);
  });
});
