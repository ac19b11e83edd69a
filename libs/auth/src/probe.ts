// Calls every method of a service definition with an empty request and reports the status of each: the
// attack "call everything without (or with the wrong) token", used by the services' auth tests and usable
// as a smoke check against a running hub.
import * as grpc from '@grpc/grpc-js';
import { describeRoles, hasPermission, METHODS, type Role } from './roles.js';

export interface ProbeResult {
  path: string;
  code: grpc.status;
  details: string;
}

/** The methods of `definition` plus `extraPaths` (e.g. reflection) with their streaming shape. */
function methods(
  definition: grpc.ServiceDefinition,
): { path: string; requestStream: boolean; responseStream: boolean }[] {
  return Object.values(definition).map((d) => ({
    path: d.path,
    requestStream: d.requestStream,
    responseStream: d.responseStream,
  }));
}

function once(
  client: grpc.Client,
  m: { path: string; requestStream: boolean; responseStream: boolean },
  metadata: grpc.Metadata,
  deadlineMs: number,
): Promise<ProbeResult> {
  const id = (b: Buffer) => b;
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    const done = (err: grpc.ServiceError | null) =>
      resolve({ path: m.path, code: err ? err.code : grpc.status.OK, details: err ? err.details : '' });
    if (!m.requestStream && !m.responseStream) {
      client.makeUnaryRequest(m.path, id, id, Buffer.alloc(0), metadata, options, (err) => done(err));
    } else if (m.requestStream && !m.responseStream) {
      const call = client.makeClientStreamRequest(m.path, id, id, metadata, options, (err) => done(err));
      call.end();
    } else {
      const call = m.requestStream
        ? client.makeBidiStreamRequest(m.path, id, id, metadata, options)
        : client.makeServerStreamRequest(m.path, id, id, Buffer.alloc(0), metadata, options);
      call.on('data', () => undefined);
      call.on('status', (s: grpc.StatusObject) =>
        resolve({ path: m.path, code: s.code, details: s.details }),
      );
      call.on('error', () => undefined);
      if (m.requestStream) {
        (call as grpc.ClientDuplexStream<Buffer, Buffer>).write(Buffer.alloc(0));
        (call as grpc.ClientDuplexStream<Buffer, Buffer>).end();
      }
    }
  });
}

/**
 * Calls every method of `definitions` on `address` once with an empty request, sending `token` as the
 * bearer token (none when null).
 */
export async function probeMethods(opts: {
  address: string;
  definitions: grpc.ServiceDefinition[];
  token: string | null;
  credentials?: grpc.ChannelCredentials;
  deadlineMs?: number;
}): Promise<ProbeResult[]> {
  const client = new grpc.Client(opts.address, opts.credentials ?? grpc.credentials.createInsecure());
  try {
    const md = new grpc.Metadata();
    if (opts.token !== null) md.set('authorization', `Bearer ${opts.token}`);
    const all = opts.definitions.flatMap(methods);
    return await Promise.all(all.map((m) => once(client, m, md, opts.deadlineMs ?? 10_000)));
  } finally {
    client.close();
  }
}

/** Reflection's service definitions (v1 and v1alpha: one bidi method each), for probing. */
export const REFLECTION_DEFINITIONS: grpc.ServiceDefinition[] = ['v1', 'v1alpha'].map((v) => ({
  ServerReflectionInfo: {
    path: `/grpc.reflection.${v}.ServerReflection/ServerReflectionInfo`,
    requestStream: true,
    responseStream: true,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
}));

/**
 * What is wrong with `results` for a caller of `role` (null: no valid token): an empty list when every
 * method refused what it must (UNAUTHENTICATED without a valid token; PERMISSION_DENIED naming the roles
 * needed when the role lacks the permission) and let through what it may.
 */
export function probeViolations(results: ProbeResult[], role: Role | null): string[] {
  const out: string[] = [];
  for (const r of results) {
    const permission = METHODS.get(r.path);
    const got = `${grpc.status[r.code]} "${r.details}"`;
    if (role === null) {
      if (r.code !== grpc.status.UNAUTHENTICATED) out.push(`${r.path}: ${got}, expected UNAUTHENTICATED`);
    } else if (permission === undefined || !hasPermission(role, permission)) {
      const needed = permission ? `needs role ${describeRoles(permission)}` : 'not open';
      if (r.code !== grpc.status.PERMISSION_DENIED || !r.details.includes(needed)) {
        out.push(`${r.path} as ${role}: ${got}, expected PERMISSION_DENIED "${needed}"`);
      }
    } else if (r.code === grpc.status.UNAUTHENTICATED || r.code === grpc.status.PERMISSION_DENIED) {
      out.push(`${r.path} as ${role}: ${got}, expected the call to reach the handler`);
    }
  }
  return out;
}
