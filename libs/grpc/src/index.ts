export {
  DEFAULT_HOST,
  GRPC_TLS_SERVER_OPTIONS,
  TLS_RELOAD_INTERVAL_MS,
  GrpcStartError,
  serverCredentials,
  startGrpcServer,
  tlsFiles,
  type GrpcServer,
  type GrpcServerOptions,
  type ServiceRegistration,
  type TlsFiles,
} from './server.js';
export { RpcError, unaryHandlers, type StatusErrorClass } from './unary.js';
