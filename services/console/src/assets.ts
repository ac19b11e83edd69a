// The built web application (vite build output), read into memory once: a handful of files. Any path that
// is not a file and not /api is the application itself (index.html), so deep links and reloads work.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export interface Asset {
  body: Buffer;
  type: string;
  /** Vite's hashed file names never change content: cached for a year; index.html never. */
  immutable: boolean;
}

export class Assets {
  private readonly files = new Map<string, Asset>();

  constructor(readonly dir: string) {
    if (!existsSync(path.join(dir, 'index.html'))) return;
    const walk = (d: string) => {
      for (const name of readdirSync(d)) {
        const full = path.join(d, name);
        if (statSync(full).isDirectory()) walk(full);
        else {
          const rel = `/${path.relative(dir, full).split(path.sep).join('/')}`;
          this.files.set(rel, {
            body: readFileSync(full),
            type: TYPES[path.extname(name)] ?? 'application/octet-stream',
            immutable: rel.startsWith('/assets/'),
          });
        }
      }
    };
    walk(dir);
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** The file at `urlPath`, else index.html for a page path (no extension), else undefined. */
  lookup(urlPath: string): Asset | undefined {
    const p = urlPath.split('?')[0]!;
    const f = this.files.get(p);
    if (f) return f;
    if (path.posix.extname(p) === '') return this.files.get('/index.html');
    return undefined;
  }
}
