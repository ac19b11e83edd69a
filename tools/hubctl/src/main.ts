#!/usr/bin/env node
// hubctl entry point: see tools/hubctl/README.md.
import { run } from './cli.js';
import { nodeIo } from './context.js';
import { grpcRpc } from './rpc.js';

// Library deprecation notices are not for the operator (grpc-js passes an IP address as the TLS server
// name when connecting to 127.0.0.1 with TLS, which Node flags).
process.noDeprecation = true;

const code = await run(process.argv.slice(2), { io: nodeIo, rpc: grpcRpc, now: () => new Date() });
// Let stdout drain (a large export piped to another program) before exiting with the code.
process.exitCode = code;
