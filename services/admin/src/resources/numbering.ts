import { status } from '@grpc/grpc-js';
import type { AdminContext } from '../context.js';
import { RpcError } from '../errors.js';
import type { AdminHandlers } from '../server.js';

const todo = (): Promise<never> => Promise.reject(new RpcError(status.UNIMPLEMENTED, 'not yet'));
export function numberingHandlers(_ctx: AdminContext): Partial<AdminHandlers> {
  return {
    createNumberPrefix: todo,
    getNumberPrefix: todo,
    listNumberPrefixes: todo,
    updateNumberPrefix: todo,
    deleteNumberPrefix: todo,
    createPortedNumber: todo,
    getPortedNumber: todo,
    listPortedNumbers: todo,
    updatePortedNumber: todo,
    deletePortedNumber: todo,
  };
}
