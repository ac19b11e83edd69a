// Bundle positions in CPU profiles mapped back to the TypeScript sources with the bundles' source maps.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A resolver for summariseProfile: file URLs or paths of bundles with a `.map` next to them. */
export function sourceMapResolver(): (
  url: string,
  line: number,
  column: number,
) => { url: string; line: number } | undefined {
  const maps = new Map<string, SourceMap | null>();
  const load = (file: string): SourceMap | null => {
    let m = maps.get(file);
    if (m !== undefined) return m;
    m = null;
    try {
      if (existsSync(`${file}.map`))
        m = new SourceMap(
          JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
        );
    } catch {
      m = null;
    }
    maps.set(file, m);
    return m;
  };
  return (url, line, column) => {
    if (!url.endsWith('.js')) return undefined;
    const file = url.startsWith('file://') ? fileURLToPath(url) : url;
    const map = load(file);
    if (!map) return undefined;
    const e = map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
    if (!e.originalSource || e.originalLine === undefined) return undefined;
    const src = e.originalSource.startsWith('file://')
      ? fileURLToPath(e.originalSource)
      : path.resolve(path.dirname(file), e.originalSource);
    return { url: src, line: e.originalLine };
  };
}
