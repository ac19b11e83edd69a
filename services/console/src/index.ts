export { createConsoleServer, type ConsoleOptions, type ConsoleServer } from './server.js';
export { Backends, ConsoleError } from './backends.js';
export { Assets } from './assets.js';
export { capabilitiesOf, type Capabilities } from './capabilities.js';
