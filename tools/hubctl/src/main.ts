#!/usr/bin/env node
// hubctl entry point: see tools/hubctl/README.md.
import { run } from './cli.js';
import { nodeIo } from './context.js';
import { grpcRpc } from './rpc.js';

const code = await run(process.argv.slice(2), { io: nodeIo, rpc: grpcRpc, now: () => new Date() });
// Let stdout drain (a large export piped to another program) before exiting with the code.
process.exitCode = code;
