import type { TypedConsumer } from '@smshub/kafka';

/**
 * On the busy shared broker, creating a group's dead-letter topic (TypedConsumer.start -> ensureTopics with
 * waitForLeaders) sometimes fails with "does not host this topic-partition" while leaders are elected.
 * start() fails before joining the group, so it can simply be tried again.
 */
export function retryStart(c: TypedConsumer): TypedConsumer {
  const start = c.start.bind(c);
  c.start = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await start();
      } catch (err) {
        if (attempt >= 5 || !/topic-partition|leader/i.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  };
  return c;
}
