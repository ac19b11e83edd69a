// Preload for before/after pairs of session 10's response assembly alone (src/frame-reader.ts):
//   NODE_OPTIONS="--import=$PWD/libs/kafka/bench/unpatched-frames.mjs" <command>
// Marks the frame reader installed before libs/kafka loads, so that it is not: kafkajs's sockets emit
// Node's chunks and its processData joins them with Buffer.concat; every other patch stays in. A bench
// tool only: never in a deployment.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Connection = require('kafkajs/src/network/connection.js');
Connection.prototype[Symbol.for('smshub.kafkajs.frameReader')] = true;
