// Preload for before/after comparisons of any process that uses libs/kafka (component benches, services):
//   NODE_OPTIONS="--import=$PWD/libs/kafka/bench/unpatched.mjs" <command>
// Marks session 9's kafkajs patches of libs/kafka as installed before libs/kafka loads, so that they are
// not: the process runs kafkajs 2.2.4's own Produce encoder, Fetch decoder, request-timeout check and
// response assembly (session 10's frame-reader.ts)
// (session 7's fix of the idle 1 ms timer loop stays in). A bench tool only: never in a deployment.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const produce = require('kafkajs/src/protocol/requests/produce/index.js');
produce[Symbol.for('smshub.kafkajs.produceEncoder')] = produce.protocol;
const fetch = require('kafkajs/src/protocol/requests/fetch/index.js');
fetch[Symbol.for('smshub.kafkajs.fetchDecoder')] = true;
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js');
RequestQueue.prototype[Symbol.for('smshub.kafkajs.requestQueue.timeoutCheck')] = true;
// Session 10: responses through 'data' chunks and Buffer.concat again (frame-reader.ts).
const Connection = require('kafkajs/src/network/connection.js');
Connection.prototype[Symbol.for('smshub.kafkajs.frameReader')] = true;
