export function DeadLetters() {
  return (
    <section>
      <h1>Dead letters</h1>
      <p class="problem" role="status">
        The hub has no API yet to browse or replay its dead-letter topics (&lt;consumer group&gt;.dlq); this
        page shows them once one exists. Until then: kafka-console-consumer on the topic.
      </p>
    </section>
  );
}
