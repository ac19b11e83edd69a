/**
 * Byte strings of many rows as one binary parameter instead of a `bytea[]`: pg writes a `bytea[]` as text,
 * every byte as two hex digits, and PostgreSQL parses it back (about 6 µs more of PostgreSQL's CPU per
 * 260-byte value: services/dlr/bench/bytea-bench.ts). The values go concatenated in one `bytea`
 * parameter, with each one's start (1-based, as substring counts) and length in two `int[]`s (NULL for a
 * null value); the statement cuts them out:
 *
 *   INSERT INTO t (id, payload)
 *   SELECT u.id, substring($3::bytea FROM u.s FOR u.l) FROM unnest($1::uuid[], $2::int[], $4::int[]) AS u(id, s, l)
 *
 * with `$2` = starts, `$3` = bytes, `$4` = lengths (any order of parameters).
 */
export interface PackedBytes {
  bytes: Buffer;
  starts: (number | null)[];
  lengths: (number | null)[];
}

export function packBytes(values: readonly (Uint8Array | null | undefined)[]): PackedBytes {
  const buffers: Buffer[] = [];
  const starts: (number | null)[] = [];
  const lengths: (number | null)[] = [];
  let at = 1;
  for (const v of values) {
    if (v === null || v === undefined) {
      starts.push(null);
      lengths.push(null);
      continue;
    }
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    buffers.push(b);
    starts.push(at);
    lengths.push(b.length);
    at += b.length;
  }
  return { bytes: Buffer.concat(buffers), starts, lengths };
}
