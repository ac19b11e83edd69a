import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Pool } from '@smshub/db';
import { MessageQueries } from './grpc.js';

// Requests refused before any database access (the pool is never touched).
const queries = new MessageQueries({} as Pool);
const day = 86_400_000;
const list = {
  accountId: 'acc',
  startTime: new Date(0),
  endTime: new Date(day),
  statuses: [],
  destinationPrefix: '',
  pageSize: 0,
  pageToken: '',
};

describe('MessageService request validation', () => {
  it('refuses malformed GetMessage requests with INVALID_ARGUMENT', async () => {
    const base = { messageId: '', customerMessageId: '', accountId: '' };
    for (const req of [
      base,
      { ...base, messageId: '12345' },
      { ...base, messageId: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', customerMessageId: 'c1' },
      { ...base, customerMessageId: 'c1' },
    ]) {
      await expect(queries.getMessage(req)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    }
  });

  it('refuses ListMessages without account or range, with a range over 31 days, or a forged token', async () => {
    for (const req of [
      { ...list, accountId: '' },
      { ...list, startTime: undefined },
      { ...list, endTime: new Date(32 * day) },
      { ...list, endTime: new Date(0) },
      { ...list, pageSize: -1 },
      { ...list, destinationPrefix: '+44' },
      { ...list, pageToken: 'not-a-token' },
      {
        ...list,
        pageToken: Buffer.from(
          JSON.stringify({ t: 0, i: '01935f3e-8c2a-7b6e-9f10-3a4b5c6d7e8f', f: 'other' }),
        ).toString('base64url'),
      },
    ]) {
      await expect(queries.listMessages(req)).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    }
  });
});
