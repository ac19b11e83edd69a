export { startAdmin, type AdminDeps } from './admin.js';
export { adminEnv, type AdminEnv } from './config.js';
export { ADMIN_SERVICE_NAME, type GrpcServer } from './server.js';
