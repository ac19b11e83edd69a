// kafkajs 2.2.4 receives every response through socket 'data' events: Node reads each chunk (up to 64 KiB)
// into a Buffer of its own, and connection.js's processData keeps the chunks until the 4-byte length prefix
// says the response is complete, then joins them with Buffer.concat. That is one copy of every response
// (not one per chunk: it concatenates once the length is reached), plus the first chunk twice (it is
// joined once to read the length), plus a copy even of a response that came in one chunk (the empty
// remainder of the previous response is joined with it). For a 1 MiB fetch that is sixteen 64 KiB
// allocations and 1.06 MiB copied; the records handed to the consumer are slices of the joined Buffer.
//
// Here (plain TCP only; TLS and anything unexpected keep kafkajs's path):
// - `frameSocketFactory` makes kafkajs's sockets with Node's `onread` option, so the kernel writes into a
//   Buffer chosen per read: a 64 KiB scratch Buffer shared by all sockets (a read is handed over and
//   consumed synchronously before the next one) until a response's length prefix is known, then the
//   response's own Buffer, allocated once at its full size, so the rest of a large response is read
//   straight into place, never copied. What arrived in the scratch is copied out (small responses, the
//   start of a large one). The socket emits 'data' with whole responses (length prefix included), one per
//   event, each in a Buffer of its own: kafkajs's own processData handles those correctly as they are.
// - `processData` is patched to take such a whole response without joining it with the empty remainder
//   (exactly kafkajs's result: correlation id, payload a slice after it). Anything else (a partial
//   response, SASL's raw exchange, leftovers) goes through kafkajs's code unchanged, so TLS sockets still
//   work chunk by chunk, with the single-chunk responses taken without a copy.
// A length prefix that is negative or larger than FRAME_MAX_BYTES (not Kafka on that port) switches that
// socket back to plain chunks (copies of them) for good: kafkajs then does what it always did.
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);

interface ConnectionLike {
  authHandlers: unknown;
  bytesBuffered: number;
  requestQueue: { fulfillRequest(r: { size: number; correlationId: number; payload: Buffer }): void };
  processData(data: Buffer): void;
}
interface SocketFactoryArgs {
  host: string;
  port: number;
  ssl: unknown;
  onConnect: () => void;
}
type SocketFactory = (args: SocketFactoryArgs) => net.Socket;

const Connection = require('kafkajs/src/network/connection.js') as { prototype: ConnectionLike };
const defaultSocketFactory = (require('kafkajs/src/network/socketFactory.js') as () => SocketFactory)();

/** kafkajs's default (network/socketFactory.js). */
const KEEP_ALIVE_DELAY_MS = 60_000;
/** Reads before a response's length is known go here; also the largest response copied out of it. */
export const SCRATCH_BYTES = 64 * 1024;
/**
 * The largest response given a Buffer of its own up front. A fetch is about its maxBytes (1 MiB here; more
 * only for a first record batch above the limit); a larger prefix is more likely not Kafka at all (a TLS
 * alert read as a length is 352 MB), and then the socket goes on as kafkajs did, chunk by chunk.
 */
export const FRAME_MAX_BYTES = 64 * 1024 * 1024;

let scratch: Buffer | null = null;
function scratchBuffer(): Buffer {
  scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  return scratch;
}

/**
 * Cuts a byte stream into whole length-prefixed frames. `next()` is the Buffer the next read goes into,
 * `took(n)` says `n` bytes were written at its start; `emit` gets each whole frame (prefix included) in a
 * Buffer it may keep. A pure state machine: Node's onread drives it (below) and the spec drives it alone.
 */
export class FrameReader {
  /** The frame being filled and how much of it is there. */
  private frame: Buffer | null = null;
  private filled = 0;
  /** A length prefix split across reads. */
  private readonly prefix = Buffer.alloc(4);
  private prefixLength = 0;
  /** The Buffer handed out by the last next(). */
  private reading: Buffer | null = null;
  /** Set for good after a length prefix out of range: chunks are passed on as they come (copied). */
  raw = false;
  /** Bytes copied out of the scratch Buffer so far (the spec checks a large frame is not copied). */
  copiedBytes = 0;

  constructor(private readonly emit: (frame: Buffer) => void) {}

  next(): Buffer {
    this.reading =
      this.frame && !this.raw && this.frame.length - this.filled > 0
        ? this.frame.subarray(this.filled)
        : scratchBuffer();
    return this.reading;
  }

  took(n: number): void {
    const buf = this.reading!;
    this.reading = null;
    if (buf !== scratch) {
      // Read straight into the frame.
      this.filled += n;
      this.completeFrame();
      return;
    }
    if (this.raw) {
      this.copiedBytes += n;
      this.emit(Buffer.from(buf.subarray(0, n)));
      return;
    }
    let i = 0;
    while (i < n) {
      if (this.frame) {
        const count = Math.min(n - i, this.frame.length - this.filled);
        buf.copy(this.frame, this.filled, i, i + count);
        this.copiedBytes += count;
        this.filled += count;
        i += count;
        this.completeFrame();
        continue;
      }
      if (this.prefixLength > 0 || n - i < 4) {
        const count = Math.min(n - i, 4 - this.prefixLength);
        buf.copy(this.prefix, this.prefixLength, i, i + count);
        this.prefixLength += count;
        i += count;
        if (this.prefixLength < 4) return;
        this.prefixLength = 0;
        if (!this.startFrame(this.prefix.readInt32BE(0))) {
          this.toRaw(Buffer.concat([this.prefix, buf.subarray(i, n)]));
          return;
        }
        this.prefix.copy(this.frame!, 0);
        this.filled = 4;
        this.completeFrame(); // a frame of length 0 is its prefix alone
        continue;
      }
      const size = buf.readInt32BE(i);
      if (!this.startFrame(size)) {
        this.toRaw(Buffer.from(buf.subarray(i, n)));
        return;
      }
      // The frame's start (or all of it) is in the scratch: copied out, the rest is read into place.
      const count = Math.min(n - i, this.frame!.length);
      buf.copy(this.frame!, 0, i, i + count);
      this.copiedBytes += count;
      this.filled = count;
      i += count;
      this.completeFrame();
    }
  }

  private startFrame(size: number): boolean {
    if (size < 0 || size > FRAME_MAX_BYTES) return false;
    const total = size + 4;
    this.frame = total > SCRATCH_BYTES ? Buffer.allocUnsafeSlow(total) : Buffer.allocUnsafe(total);
    this.filled = 0;
    return true;
  }

  private completeFrame(): void {
    const frame = this.frame!;
    if (this.filled < frame.length) return;
    this.frame = null;
    this.filled = 0;
    this.emit(frame);
  }

  private toRaw(rest: Buffer): void {
    this.raw = true;
    this.frame = null;
    this.copiedBytes += rest.length;
    this.emit(rest);
  }
}

/**
 * kafkajs's socket factory with whole responses per 'data' event (above) for plain TCP; TLS sockets come
 * from kafkajs's own factory.
 */
export const frameSocketFactory: SocketFactory = (args) => {
  if (args.ssl) return defaultSocketFactory(args);
  // The socket is assigned before the first read: onread's callback only runs once data arrives.
  // eslint-disable-next-line prefer-const
  let socket: net.Socket;
  const reader = new FrameReader((frame) => socket.emit('data', frame));
  socket = net.connect(
    {
      host: args.host,
      port: args.port,
      onread: {
        buffer: () => reader.next(),
        callback: (n: number) => {
          reader.took(n);
          return true; // never paused: kafkajs reads every response
        },
      },
    },
    args.onConnect,
  );
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  return socket;
};

const PATCHED = Symbol.for('smshub.kafkajs.frameReader');
const ORIGINAL = Symbol.for('smshub.kafkajs.frameReader.original');
const proto = Connection.prototype as ConnectionLike & {
  [PATCHED]?: 'installed' | true;
  [ORIGINAL]?: ConnectionLike['processData'];
};
if (!proto[PATCHED]) {
  const original = proto.processData;
  proto[ORIGINAL] = original;
  proto.processData = function processData(this: ConnectionLike, data: Buffer) {
    // A whole response with nothing buffered before it: what kafkajs's loop does, without Buffer.concat.
    if (!this.authHandlers && this.bytesBuffered === 0 && data.length >= 8) {
      const size = data.readInt32BE(0);
      if (size + 4 === data.length) {
        this.requestQueue.fulfillRequest({
          size,
          correlationId: data.readInt32BE(4),
          payload: data.subarray(8),
        });
        return;
      }
    }
    original.call(this, data);
  };
  proto[PATCHED] = 'installed';
}

/**
 * Whether this module's patch is in (not when libs/kafka/bench/unpatched.mjs marked it installed first):
 * createKafka only then gives kafkajs `frameSocketFactory`.
 */
export const frameReaderInstalled = proto[PATCHED] === 'installed';

/** kafkajs's Connection class (patched), for the spec. */
export const KafkajsConnection = Connection as unknown as new (
  opts: Record<string, unknown>,
) => ConnectionLike;
