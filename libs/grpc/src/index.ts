export {
  DEFAULT_HOST,
  GrpcStartError,
  serverCredentials,
  startGrpcServer,
  tlsFiles,
  type GrpcServer,
  type GrpcServerOptions,
  type ServiceRegistration,
  type TlsFiles,
} from './server.js';
