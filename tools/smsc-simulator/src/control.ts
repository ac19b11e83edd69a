// The simulator's control endpoint (SIM_CONTROL_PORT; off when unset): lets a person or a test make a
// simulated network originate an MO, as a handset replying to a hub number would.
//   POST /mo {"from": "+447700900123", "to": "447700900000", "text": "STOP", "simulator": "sim-good",
//             "ucs2": false, "parts": 0}
// The MO goes to the hub as deliver_sm (esm_class 0) on a receiver/transceiver session the hub bound to
// that simulator (the first simulator when none is named). A text longer than one SMS is sent as UDH parts
// (8-bit reference); "parts": N > 1 forces at least N parts (for reassembly tests); "onlyParts": [1, 3]
// sends only those parts (a part that never arrives). Answers {"parts": n, "simulator": name}.
//   POST /behaviour {"simulator": "sim-good", "receipts": {"mix": {"DELIVRD": 60, "UNDELIV": 40},
//             "delayMs": {"min": 1000, "max": 3000}}, "acceptLatencyMs": 5, "errorRates": {"ESME_RSYSERR": 0.1}}
// changes a running simulator's behaviour from its next message on (a scripted scenario: a network that
// degrades, slows down, recovers). Each top-level key given replaces that setting as a whole; the others,
// and every other SimulatorOptions key (fakeReceipts, lateDelivery, ... when the library has them) pass
// through to setBehaviour; identity and listening settings (systemId, password, tls, window, seed) are
// refused. Answers {"simulator": name}. null turns an optional behaviour off ("fakeReceipts": null).
//   GET /behaviour[?simulator=name] answers {"simulators": [{name, options, counters}]}: what is in force.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { segmentText, type SegmentPart } from '@smshub/smpp';
import type { Simulator, SimulatorOptions } from '@smshub/smsc-simulator';
import { parseStatus } from './config.js';

export interface MoRequest {
  from: string;
  to: string;
  text: string;
  simulator?: string;
  ucs2?: boolean;
  parts?: number;
  onlyParts?: number[];
}

/** A request body -> MoRequest, or the reason it is refused (pure). */
export function parseMoRequest(body: unknown): MoRequest | string {
  const b = body as Partial<Record<keyof MoRequest, unknown>> | null;
  if (!b || typeof b !== 'object') return 'the body must be a JSON object';
  if (typeof b.from !== 'string' || !/^\+?[0-9A-Za-z ]{1,20}$/.test(b.from))
    return '"from" must be an address';
  if (typeof b.to !== 'string' || !/^\+?[0-9]{3,15}$/.test(b.to)) return '"to" must be a hub number (digits)';
  if (typeof b.text !== 'string' || b.text.length === 0) return '"text" must be a non-empty string';
  if (
    b.parts !== undefined &&
    (!Number.isInteger(b.parts) || (b.parts as number) < 0 || (b.parts as number) > 10)
  )
    return '"parts" must be 0..10';
  if (
    b.onlyParts !== undefined &&
    (!Array.isArray(b.onlyParts) || !b.onlyParts.every((n) => Number.isInteger(n)))
  )
    return '"onlyParts" must be a list of part numbers';
  return {
    from: b.from,
    to: b.to,
    text: b.text,
    ...(typeof b.simulator === 'string' ? { simulator: b.simulator } : {}),
    ...(b.ucs2 === true ? { ucs2: true } : {}),
    ...(typeof b.parts === 'number' ? { parts: b.parts } : {}),
    ...(Array.isArray(b.onlyParts) ? { onlyParts: b.onlyParts as number[] } : {}),
  };
}

/** Settings POST /behaviour may not change on a running simulator (who may bind, how it listens). */
const FIXED_SETTINGS = ['systemId', 'password', 'tls', 'window', 'seed', 'logger', 'keepReceived'];

/** A POST /behaviour body -> the simulator's name (if given) and the patch, or the reason it is refused (pure). */
export function parseBehaviourRequest(
  body: unknown,
): { simulator?: string; patch: Partial<SimulatorOptions> } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body must be a JSON object';
  const { simulator, ...patch } = body as Record<string, unknown>;
  if (simulator !== undefined && typeof simulator !== 'string') return '"simulator" must be a name';
  const fixed = Object.keys(patch).filter((k) => FIXED_SETTINGS.includes(k));
  if (fixed.length) return `${fixed.map((k) => JSON.stringify(k)).join(', ')} cannot change at runtime`;
  if (Object.keys(patch).length === 0) return 'nothing to change';
  const r = patch.receipts;
  if (r !== undefined && (r === null || typeof r !== 'object' || Array.isArray(r)))
    return '"receipts" must be an object';
  let errorRates: Partial<Record<number, number>> | undefined;
  if (patch.errorRates !== undefined) {
    if (!patch.errorRates || typeof patch.errorRates !== 'object') return '"errorRates" must be an object';
    try {
      errorRates = Object.fromEntries(
        Object.entries(patch.errorRates).map(([k, p]) => [parseStatus(k), Number(p)]),
      );
    } catch (e) {
      return (e as Error).message;
    }
  }
  return {
    ...(typeof simulator === 'string' ? { simulator } : {}),
    patch: { ...(patch as Partial<SimulatorOptions>), ...(errorRates && { errorRates }) },
  };
}

/** The deliver_sm parts of an MO: one SMS, or UDH parts (at least `minParts` when asked). */
export function moParts(req: MoRequest): { dataCoding: number; parts: SegmentPart[] } {
  const encoding = req.ucs2 ? 'ucs2' : undefined;
  const reference = randomInt(256);
  const wanted = req.parts ?? 0;
  if (wanted > 1) {
    // Split the text into `wanted` chunks and send each as one UDH part.
    const size = Math.ceil(req.text.length / wanted);
    const chunks = Array.from({ length: wanted }, (_, i) => req.text.slice(i * size, (i + 1) * size)).filter(
      (c) => c.length > 0,
    );
    const parts: SegmentPart[] = [];
    let dataCoding = 0;
    chunks.forEach((chunk, i) => {
      const s = segmentText(chunk, { method: 'udh8', reference, ...(encoding ? { encoding } : {}) });
      dataCoding = s.dataCoding;
      const body = s.parts[0]!.shortMessage;
      const udh = Buffer.from([0x05, 0x00, 0x03, reference, chunks.length, i + 1]);
      parts.push({ shortMessage: Buffer.concat([udh, body]), udh, udhi: true });
    });
    return { dataCoding, parts };
  }
  const s = segmentText(req.text, { method: 'udh8', reference, ...(encoding ? { encoding } : {}) });
  return { dataCoding: s.dataCoding, parts: s.parts };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startControl(
  sims: ReadonlyArray<{ name: string; sim: Simulator }>,
  port: number,
  host = '127.0.0.1',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const route = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && route === '/behaviour') {
      const name = new URL(req.url ?? '/', 'http://control').searchParams.get('simulator');
      const list = sims.filter((s) => name === null || s.name === name);
      if (list.length === 0) return send(res, 404, { error: `no simulator named ${JSON.stringify(name)}` });
      return send(res, 200, {
        simulators: list.map((s) => ({ name: s.name, options: s.sim.options, counters: s.sim.counters })),
      });
    }
    if (req.method === 'POST' && route === '/behaviour') {
      readJson(req)
        .then((body) => {
          const b = parseBehaviourRequest(body);
          if (typeof b === 'string') return send(res, 400, { error: b });
          const target = b.simulator ? sims.find((s) => s.name === b.simulator) : sims[0];
          if (!target) return send(res, 404, { error: `no simulator named ${JSON.stringify(b.simulator)}` });
          try {
            target.sim.setBehaviour(b.patch); // validates (compilePlan) before anything changes
          } catch (e) {
            return send(res, 400, { error: (e as Error).message });
          }
          send(res, 200, { simulator: target.name });
        })
        .catch((err: unknown) => send(res, 400, { error: (err as Error).message }));
      return;
    }
    if (req.method !== 'POST' || route !== '/mo') {
      send(res, 404, { error: 'POST /mo, POST or GET /behaviour only' });
      return;
    }
    readJson(req)
      .then(async (body) => {
        const mo = parseMoRequest(body);
        if (typeof mo === 'string') return send(res, 400, { error: mo });
        const target = mo.simulator ? sims.find((s) => s.name === mo.simulator) : sims[0];
        if (!target) return send(res, 404, { error: `no simulator named ${JSON.stringify(mo.simulator)}` });
        const { dataCoding, parts } = moParts(mo);
        const from = mo.from.replace(/^\+/, '');
        const international = /^[0-9]+$/.test(from) && mo.from.startsWith('+');
        let sent = 0;
        for (const [i, p] of parts.entries()) {
          if (mo.onlyParts && !mo.onlyParts.includes(i + 1)) continue;
          await target.sim.deliver({
            source_addr_ton: international ? 1 : /^[0-9]+$/.test(from) ? 0 : 5,
            source_addr_npi: /^[0-9]+$/.test(from) ? 1 : 0,
            source_addr: from,
            dest_addr_ton: mo.to.startsWith('+') ? 1 : 0,
            dest_addr_npi: 1,
            destination_addr: mo.to.replace(/^\+/, ''),
            esm_class: p.udhi ? 0x40 : 0,
            data_coding: dataCoding,
            short_message: p.shortMessage,
          });
          sent++;
        }
        send(res, 200, { parts: sent, simulator: target.name });
      })
      .catch((err: unknown) => send(res, 503, { error: (err as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
