export { createInbound, groupKeyOf, type Inbound, type InboundDeps } from './inbound.js';
export { inboundEnv, optionsFromEnv, type InboundOptions } from './config.js';
