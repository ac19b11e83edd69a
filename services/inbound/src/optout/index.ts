// Opt-out keywords for the inbound stage's hook (keywords.ts): one KeywordHandler per pool, so the
// keyword-set cache lives as long as the stage.
import type { Pool } from '@smshub/db';
import { KeywordHandler, type KeywordHandlerDeps, type KeywordResult } from './handler.js';

export { KeywordHandler, type KeywordHandlerDeps, type KeywordResult } from './handler.js';
export * from './match.js';

const handlers = new WeakMap<Pool, KeywordHandler>();

/** The handler of `deps.pool` (created on first use). */
export function keywordHandler(deps: KeywordHandlerDeps): KeywordHandler {
  let h = handlers.get(deps.pool);
  if (!h) handlers.set(deps.pool, (h = new KeywordHandler(deps)));
  return h;
}

export function handleKeyword(
  message: Parameters<KeywordHandler['handle']>[0],
  deps: KeywordHandlerDeps,
): Promise<KeywordResult | undefined> {
  return keywordHandler(deps).handle(message);
}
