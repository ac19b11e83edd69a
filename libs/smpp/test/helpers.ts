// Test helpers (a raw SMPP peer, a seeded PRNG): exported as @smshub/smpp/testing for other packages' tests.
// waitFor is @smshub/testing's.
import net from 'node:net';
import { decodePdu, encodePdu, type DecodeResult, type PduInit } from '../src/index.js';

/**
 * A raw TCP peer that writes whatever bytes a test wants and reads back framed PDUs: used to act as a
 * misbehaving ESME, which the lib's own client refuses to be.
 */
export class RawPeer {
  readonly socket: net.Socket;
  private rx = Buffer.alloc(0);
  private readonly queue: DecodeResult[] = [];
  private waiters: Array<(r: DecodeResult) => void> = [];
  /** Everything received, in order. */
  readonly received: DecodeResult[] = [];
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.rx = Buffer.concat([this.rx, chunk]);
      while (this.rx.length >= 16) {
        const len = this.rx.readUInt32BE(0);
        if (this.rx.length < len) break;
        const res = decodePdu(Buffer.from(this.rx.subarray(0, len)));
        this.rx = this.rx.subarray(len);
        this.received.push(res);
        const w = this.waiters.shift();
        if (w) w(res);
        else this.queue.push(res);
      }
    });
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  send(init: PduInit): void {
    this.socket.write(encodePdu(init));
  }

  sendRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  /** Next PDU from the server (decoded), or throws after timeoutMs. */
  next(timeoutMs = 5000): Promise<DecodeResult> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error('no PDU from the server in time'));
      }, timeoutMs);
      const done = (r: DecodeResult): void => {
        clearTimeout(t);
        resolve(r);
      };
      this.waiters.push(done);
    });
  }

  async nextPdu(timeoutMs?: number) {
    const r = await this.next(timeoutMs);
    if (!r.ok) throw new Error(`server sent an undecodable PDU: ${r.reason}`);
    return r.pdu;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
