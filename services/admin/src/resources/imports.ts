import { status } from '@grpc/grpc-js';
import type { AdminContext } from '../context.js';
import { RpcError } from '../errors.js';
import type { AdminHandlers } from '../server.js';

const todo = (): Promise<never> => Promise.reject(new RpcError(status.UNIMPLEMENTED, 'not yet'));
export function importHandlers(_ctx: AdminContext): Partial<AdminHandlers> {
  return {
    importRates: todo,
    importNumberPrefixes: todo,
    importPortedNumbers: todo,
  };
}
