import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeliveryStatus,
  MessageContext,
  MessageServiceService,
  type GetMessageRequest,
  type GetMessageResponse,
  type ListMessagesRequest,
  type ListMessagesResponse,
} from '@smshub/contracts';
import { DlrMessageReader } from '../src/messages.js';
import { call, Harness, type Replica } from './harness.js';

// GET /v1/messages... over real HTTP and real gRPC. The MessageService here stands in for dlr (services
// never import each other) and holds dlr's contract: a customer token reads only its own account, anything
// else is NOT_FOUND / PERMISSION_DENIED. What is tested is http-api's side: the caller's own key is what
// reaches dlr, the account scope is passed, and another account's message is a 404.
describe('message status through the MessageService', () => {
  const h = new Harness();
  let api: Replica;
  let server: Server;
  let reader: DlrMessageReader;
  let mine: string;
  let theirs: string;
  let myKey: string;
  const seenAuth: string[] = [];
  const messages = new Map<string, { account: string; id: string }>();

  beforeAll(async () => {
    await h.setup();
    mine = await h.addAccount();
    theirs = await h.addAccount();
    myKey = await h.addKey(mine);
    messages.set('m-mine', { account: mine, id: 'm-mine' });
    messages.set('m-theirs', { account: theirs, id: 'm-theirs' });
    server = new Server();
    const summary = (m: { id: string }) => ({
      context: MessageContext.fromPartial({
        messageId: m.id,
        destination: { ton: 1, npi: 1, address: '447400123456' },
        clientReference: 'ref',
      }),
      status: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      final: true,
      connectorId: 'sim-good',
      segments: 1,
      doneAt: new Date(5000),
    });
    server.addService(MessageServiceService, {
      getMessage(
        c: ServerUnaryCall<GetMessageRequest, GetMessageResponse>,
        cb: sendUnaryData<GetMessageResponse>,
      ) {
        seenAuth.push(String(c.metadata.get('authorization')[0]));
        const m = messages.get(c.request.messageId);
        if (!m) return cb({ code: status.NOT_FOUND, details: 'no such message' });
        if (m.account !== c.request.accountId)
          return cb({ code: status.PERMISSION_DENIED, details: 'another account' });
        cb(null, { message: summary(m), timeline: [] });
      },
      listMessages(
        c: ServerUnaryCall<ListMessagesRequest, ListMessagesResponse>,
        cb: sendUnaryData<ListMessagesResponse>,
      ) {
        const own = [...messages.values()].filter((m) => m.account === c.request.accountId);
        cb(null, { messages: own.map(summary), nextPageToken: '' });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    reader = new DlrMessageReader(`127.0.0.1:${port}`);
    api = await h.startReplica({}, reader);
  });
  afterAll(async () => {
    reader?.close();
    server?.forceShutdown();
    await h.teardown();
  });

  it("reads the caller's own message with the caller's key", async () => {
    const r = await call(`${api.url}/v1/messages/m-mine`, { key: myKey });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: 'm-mine',
      status: 'delivered',
      final: true,
      to: '+447400123456',
      segments: 1,
      client_reference: 'ref',
      done_at: new Date(5000).toISOString(),
    });
    expect(seenAuth.at(-1)).toBe(`Bearer ${myKey}`);
  });

  it("another account's message and an unknown id are both 404 not-found", async () => {
    for (const id of ['m-theirs', 'm-nowhere']) {
      const r = await call(`${api.url}/v1/messages/${id}`, { key: myKey });
      expect(r.status, id).toBe(404);
      expect(r.body.type, id).toBe('urn:smshub:problem:not-found');
    }
  });

  it('lists only the caller account, and needs a key', async () => {
    const r = await call(`${api.url}/v1/messages?status=delivered&to=%2B44`, { key: myKey });
    expect(r.status).toBe(200);
    expect(r.body.messages.map((m: { id: string }) => m.id)).toEqual(['m-mine']);
    expect((await call(`${api.url}/v1/messages`)).status).toBe(401);
    const bad = await call(`${api.url}/v1/messages?status=lost`, { key: myKey });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('urn:smshub:problem:validation-failed');
  });
});
