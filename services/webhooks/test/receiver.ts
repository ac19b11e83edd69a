// A real HTTP receiver for the tests: records every request (headers, raw body) and answers as told.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What to do with a request: answer with a status, or never answer (a hung receiver). */
export type Behaviour = (req: Received, nth: number) => number | 'hang';

export class Receiver {
  readonly received: Received[] = [];
  private server: http.Server | undefined;
  private readonly hung: http.ServerResponse[] = [];
  behaviour: Behaviour = () => 200;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        this.received.push(r);
        const answer = this.behaviour(r, this.received.filter((x) => x.path === r.path).length);
        if (answer === 'hang') {
          this.hung.push(res);
          return;
        }
        res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  bodies(path: string): { id: string; data: Record<string, unknown> }[] {
    return this.received
      .filter((r) => r.path === path)
      .map((r) => JSON.parse(r.body) as { id: string; data: Record<string, unknown> });
  }

  /** Drops the connections of the requests it holds unanswered (their senders see the socket close). */
  release(): void {
    for (const res of this.hung.splice(0)) res.destroy();
  }

  async stop(): Promise<void> {
    this.release();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
