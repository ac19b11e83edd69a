// The dead letters page: the consumer groups holding dead letters, one group's letters (newest first, paged
// by offset) and replay (one letter, or every one held), through admin's DeadLetterService with the
// session's token (admin and operations; the service refuses the others anyway).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ListDeadLetterGroupsResponse,
  ListDeadLettersResponse,
  ReplayDeadLettersResponse,
} from '@smshub/contracts';
import { ConsoleError, unary, type Backends } from './backends.js';
import type { Action } from './capabilities.js';
import type { Session } from './session.js';

const OFFSET = /^\d{1,19}$/;

function offsetOf(v: unknown, what: string): bigint | undefined {
  if (v === undefined || v === '' || v === null) return undefined;
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || !OFFSET.test(s))
    throw new ConsoleError(400, `${what}: not an offset: ${String(v)}`);
  return BigInt(s);
}

/** `need` is api.ts's: the signed-in session (401), allowed `action` (403). */
export function registerDeadLetterApi(
  app: FastifyInstance,
  backends: Backends,
  need: (req: FastifyRequest, action?: Action) => Session,
): void {
  app.get('/api/deadletters', async (req) => {
    const s = need(req);
    const dl = backends.need('deadLetters');
    const res = await unary<ListDeadLetterGroupsResponse>(s.token, (md, o, cb) =>
      dl.listDeadLetterGroups({ includeEmpty: false }, md, o, cb),
    );
    return ListDeadLetterGroupsResponse.toJSON(res);
  });

  app.get('/api/deadletters/:group', async (req) => {
    const s = need(req);
    const { group } = req.params as { group: string };
    const q = req.query as { before?: string; from?: string };
    const dl = backends.need('deadLetters');
    const from = offsetOf(q.from, 'from');
    const res = await unary<ListDeadLettersResponse>(s.token, (md, o, cb) =>
      dl.listDeadLetters(
        {
          group,
          pageSize: 50,
          beforeOffset: offsetOf(q.before, 'before') ?? 0n,
          oldestFirst: from !== undefined,
          fromOffset: from ?? 0n,
        },
        md,
        o,
        cb,
      ),
    );
    return ListDeadLettersResponse.toJSON(res);
  });

  app.post('/api/deadletters/:group/replay', async (req) => {
    const s = need(req, 'deadletters.replay');
    const { group } = req.params as { group: string };
    const body = (req.body ?? {}) as { offset?: unknown; all?: unknown; force?: unknown };
    const offset = offsetOf(body.offset, 'offset');
    if ((offset === undefined) === (body.all !== true))
      throw new ConsoleError(400, 'replay one offset, or all');
    const dl = backends.need('deadLetters');
    const res = await unary<ReplayDeadLettersResponse>(s.token, (md, o, cb) =>
      dl.replayDeadLetters(
        {
          group,
          offsets: offset !== undefined ? [offset] : [],
          ...(body.all === true ? { upToOffset: -1n } : {}),
          force: body.force === true,
        },
        md,
        o,
        cb,
      ),
    );
    return ReplayDeadLettersResponse.toJSON(res);
  });
}
