// Re-route orders (sms.reroute.v1) over real Kafka, Postgres and SMPP: egress sends the message once more
// from the order's candidate, as the part's next attempt, and a replayed order sends nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { DispatchOutcome, SmsReroute, SmsRouted } from '@smshub/contracts';
import { encodeUcs2 } from '@smshub/smpp';
import { createSimulator, type Simulator } from '@smshub/smsc-simulator';
import { waitFor, waitForGroupCommitted } from '@smshub/testing';
import { Harness } from './harness.js';

describe('egress: re-route orders', () => {
  const h = new Harness();
  let simA: Simulator;
  let simB: Simulator;

  beforeAll(async () => {
    await h.setup();
    simA = createSimulator({ systemId: 'hub', password: 'secret', seed: 3 });
    simB = createSimulator({ systemId: 'hub', password: 'secret', seed: 4 });
    const { port: portA } = await simA.listen(0);
    const { port: portB } = await simB.listen(0);
    await h.addConnector({ id: 'con_a', port: portA, messageIdFormat: 'verbatim' });
    await h.addConnector({ id: 'con_b', port: portB, messageIdFormat: 'verbatim' });
    const core = await h.startCore();
    await waitFor(() => core.connectors.get('con_a')?.healthy && core.connectors.get('con_b')?.healthy, {
      what: 'both connectors bound',
    });
  });
  afterAll(async () => {
    await h.teardown();
    await Promise.all([simA.close(), simB.close()]);
  });

  function routedOf(messageId: string): SmsRouted {
    return SmsRouted.fromPartial({
      message: {
        messageId,
        accountId: 'acc_1',
        customerMessageId: messageId,
        source: { ton: 5, npi: 0, address: 'ACME' },
        destination: { ton: 1, npi: 1, address: '447700900556' },
        dataCoding: 8,
        shortMessage: encodeUcs2('Your code is 6666'),
        registeredDelivery: 1,
        receivedAt: new Date(),
      },
      candidates: [
        { connectorId: 'con_a', ruleId: 'rr_1' },
        { connectorId: 'con_b', ruleId: 'rr_1' },
      ],
      routedAt: new Date(),
    });
  }

  it('does not send an order read after its send_before (dlr ends the message with the failure)', async () => {
    const messageId = uuidv7();
    const routed = routedOf(messageId);
    await h.producer.produce(h.topics.routed, routed);
    await waitFor(
      () =>
        h
          .dispatchesOf(messageId)
          .some((d) => d.connectorId === 'con_a' && d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED),
      { what: 'the first attempt via con_a' },
    );
    const bSubmits = simB.counters.submits;
    await h.producer.produce(
      h.topics.reroute,
      SmsReroute.fromPartial({
        routed,
        fromCandidate: 1,
        attempt: 2,
        failedConnectorId: 'con_a',
        reason: 'UNDELIV err 001 from con_a 80 ms after acceptance (rule rr_1)',
        failure: 'UNDELIV',
        orderedAt: new Date(Date.now() - 60_000),
        sendBefore: new Date(Date.now() - 1_000),
        partNumber: 1,
      }),
    );
    await waitForGroupCommitted({ groupId: h.group, topic: h.topics.reroute.name });
    expect(h.dispatchesOf(messageId).filter((d) => d.connectorId === 'con_b')).toEqual([]);
    expect(simB.counters.submits).toBe(bSubmits);
  });

  it('sends the order from its candidate once, as attempt 2, however often the order is read', async () => {
    const messageId = uuidv7();
    const routed = SmsRouted.fromPartial({
      message: {
        messageId,
        accountId: 'acc_1',
        customerMessageId: messageId,
        source: { ton: 5, npi: 0, address: 'ACME' },
        destination: { ton: 1, npi: 1, address: '447700900555' },
        dataCoding: 8,
        shortMessage: encodeUcs2('Your code is 5555'),
        registeredDelivery: 1,
        receivedAt: new Date(),
      },
      candidates: [
        { connectorId: 'con_a', ruleId: 'rr_1' },
        { connectorId: 'con_b', ruleId: 'rr_1' },
      ],
      routedAt: new Date(),
    });
    await h.producer.produce(h.topics.routed, routed);
    const accepted = (connectorId: string) =>
      h
        .dispatchesOf(messageId)
        .filter(
          (d) => d.connectorId === connectorId && d.outcome === DispatchOutcome.DISPATCH_OUTCOME_ACCEPTED,
        );
    await waitFor(() => accepted('con_a').length === 1, { what: 'the first attempt via con_a' });
    const aSubmits = simA.counters.submits;

    const order = SmsReroute.fromPartial({
      routed,
      fromCandidate: 1,
      attempt: 2,
      failedConnectorId: 'con_a',
      reason: 'UNDELIV err 001 from con_a 80 ms after acceptance (rule rr_1)',
      failure: 'UNDELIV',
      orderedAt: new Date(),
      partNumber: 1,
    });
    await h.producer.produce(h.topics.reroute, order);
    const second = await waitFor(() => accepted('con_b')[0], { what: 'the re-sent attempt via con_b' });
    expect(second).toMatchObject({ attempt: 2, candidateIndex: 1 });

    // The same order twice more (a redelivery, a second copy from dlr): once egress has read both, still one
    // submit_sm to con_b and none more to con_a.
    await h.producer.produce(h.topics.reroute, order);
    await h.producer.produce(h.topics.reroute, order);
    await waitForGroupCommitted({ groupId: h.group, topic: h.topics.reroute.name });
    expect(accepted('con_b')).toHaveLength(1);
    expect(simB.counters.submits).toBe(1);
    expect(simA.counters.submits).toBe(aSubmits);
  });
});
