import { status } from '@grpc/grpc-js';
import type { AdminContext } from '../context.js';
import { RpcError } from '../errors.js';
import type { AdminHandlers } from '../server.js';

const todo = (): Promise<never> => Promise.reject(new RpcError(status.UNIMPLEMENTED, 'not yet'));
export function connectorHandlers(_ctx: AdminContext): Partial<AdminHandlers> {
  return {
    createConnector: todo,
    getConnector: todo,
    listConnectors: todo,
    updateConnector: todo,
    deleteConnector: todo,
  };
}
