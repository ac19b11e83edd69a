import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FRAME_MAX_BYTES,
  FrameReader,
  frameSocketFactory,
  KafkajsConnection,
  SCRATCH_BYTES,
} from './frame-reader.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** A length-prefixed frame of `size` bytes after its prefix, its content from `seed`. */
function frame(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size + 4);
  b.writeInt32BE(size, 0);
  for (let i = 4; i < b.length; i++) b[i] = (seed + i * 31) & 0xff;
  return b;
}

/** Feeds `stream` to a FrameReader as a kernel would: each read at most `readSize()` bytes into next(). */
function feed(reader: FrameReader, stream: Buffer, readSize: () => number): void {
  let at = 0;
  while (at < stream.length) {
    const into = reader.next();
    const n = Math.min(readSize(), into.length, stream.length - at);
    stream.copy(into, 0, at, at + n);
    at += n;
    reader.took(n);
  }
}

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  vi.restoreAllMocks();
});

describe('FrameReader', () => {
  it('emits every frame whole, in order, in a Buffer of its own, however the reads cut the stream', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const sizes = [0, 4, 5, SCRATCH_BYTES - 4, SCRATCH_BYTES - 3, SCRATCH_BYTES, 300_000];
      const frames = Array.from({ length: 30 }, (_, i) =>
        frame(r(3) === 0 ? sizes[r(sizes.length)]! : r(r(2) ? 100 : 20_000), seed * 100 + i),
      );
      const out: Buffer[] = [];
      const reader = new FrameReader((f) => out.push(f));
      const tiny = seed % 4 === 0; // reads of 1-7 bytes: length prefixes split everywhere
      feed(reader, Buffer.concat(frames), () => (tiny ? 1 + r(7) : 1 + r(100_000)));
      expect(out.length).toBe(frames.length);
      out.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
      // Owned: the scratch Buffer the reads went into is reused, the frames must not be views of it.
      const scratch = reader.next();
      for (const f of out) expect(f.buffer === scratch.buffer && f.byteOffset < scratch.length).toBe(false);
      expect(reader.raw).toBe(false);
    }
  });

  it('reads a large frame straight into its own Buffer: only the first read is copied', () => {
    const big = frame(1024 * 1024, 7);
    const out: Buffer[] = [];
    const reader = new FrameReader((f) => out.push(f));
    feed(reader, big, () => 64 * 1024);
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(big)).toBe(true);
    expect(reader.copiedBytes).toBe(64 * 1024); // kafkajs: 1 MiB joined from 16 chunks, plus 64 KiB
  });

  it('passes the bytes on unchanged (copied, as chunks) after a length prefix out of range', () => {
    const good = frame(10, 1);
    const bad = Buffer.alloc(12);
    bad.writeInt32BE(FRAME_MAX_BYTES + 1, 0);
    const negative = Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]);
    for (const wrong of [bad, negative]) {
      const stream = Buffer.concat([good, wrong, frame(3, 2)]);
      const out: Buffer[] = [];
      const reader = new FrameReader((f) => out.push(f));
      feed(reader, stream, () => 5);
      expect(reader.raw).toBe(true);
      expect(out[0]!.equals(good)).toBe(true);
      expect(Buffer.concat(out).equals(stream)).toBe(true);
    }
  });
});

describe('frameSocketFactory', () => {
  it("emits 'data' once per whole response on a real socket, whatever TCP's segments", async () => {
    const frames = [frame(100, 1), frame(2 * 1024 * 1024, 2), frame(0, 3), frame(70_000, 4), frame(9, 5)];
    const stream = Buffer.concat(frames);
    const server = net.createServer((conn) => {
      // Odd pieces, some of them inside a length prefix, with pauses so they arrive as separate reads.
      let at = 0;
      const cuts = [3, 50, 104, 105, 200_000, 1_500_000];
      const send = () => {
        const end = cuts.shift() ?? stream.length;
        conn.write(stream.subarray(at, end));
        at = end;
        if (at < stream.length) setTimeout(send, 5);
      };
      send();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const got: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      const socket = frameSocketFactory({ host: '127.0.0.1', port, ssl: null, onConnect: () => undefined });
      sockets.push(socket);
      socket.on('data', (d: Buffer) => {
        got.push(d);
        if (got.length === frames.length) resolve();
      });
    });
    await done;
    got.forEach((d, i) => expect(d.equals(frames[i]!)).toBe(true));
  });
});

describe("kafkajs's Connection.processData, patched", () => {
  const logger = {
    namespace: () => logger,
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const response = (correlationId: number, payload: Buffer) => {
    const b = Buffer.allocUnsafe(8 + payload.length);
    b.writeInt32BE(4 + payload.length, 0);
    b.writeInt32BE(correlationId, 4);
    payload.copy(b, 8);
    return b;
  };

  it('takes whole responses without Buffer.concat, the payload a view of the response', () => {
    const connection = new KafkajsConnection({ host: 'h', port: 1, logger, requestTimeout: 30_000 });
    const fulfilled: { size: number; correlationId: number; payload: Buffer }[] = [];
    connection.requestQueue.fulfillRequest = (r) => void fulfilled.push(r);
    const concat = vi.spyOn(Buffer, 'concat');
    const a = response(1, Buffer.from('first'));
    const b = response(2, Buffer.from('second one'));
    connection.processData(a);
    connection.processData(b); // kafkajs joins this one with the empty rest of the first
    expect(concat).not.toHaveBeenCalled();
    expect(fulfilled.map((f) => [f.size, f.correlationId, f.payload.toString()])).toEqual([
      [9, 1, 'first'],
      [14, 2, 'second one'],
    ]);
    expect(fulfilled[1]!.payload.buffer).toBe(b.buffer);
  });

  it("still assembles responses in pieces with kafkajs's code (TLS chunks, SASL)", () => {
    const connection = new KafkajsConnection({ host: 'h', port: 1, logger, requestTimeout: 30_000 });
    const fulfilled: { correlationId: number; payload: Buffer }[] = [];
    connection.requestQueue.fulfillRequest = (r) => void fulfilled.push(r);
    const stream = Buffer.concat([
      response(5, Buffer.from('abc')),
      response(6, Buffer.alloc(5000, 1)),
      response(7, Buffer.from('z')),
    ]);
    for (const cut of [[2, 7, 20, 3000, stream.length]]) {
      let at = 0;
      for (const end of cut) {
        connection.processData(stream.subarray(at, end));
        at = end;
      }
    }
    expect(fulfilled.map((f) => [f.correlationId, f.payload.length])).toEqual([
      [5, 3],
      [6, 5000],
      [7, 1],
    ]);
  });
});
