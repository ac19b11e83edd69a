import { counter, gauge, histogram } from '@smshub/telemetry';

/** Routing metrics (README "Metrics"). */
export const metrics = {
  decisions: counter(
    'smshub_routing_decisions_total',
    'Routing decisions by outcome (routed, rejected, held: quiet hours)',
    ['outcome'],
  ),
  rejected: counter(
    'smshub_routing_rejected_total',
    'Rejected messages by category and rule id ("" when no rule matched)',
    ['category', 'rule'],
  ),
  decisionSeconds: histogram(
    'smshub_routing_decision_seconds',
    'Time per message of deciding a consumed batch (normalise, firewall with its shared windows, lookup, rule, strategy), without publishing; observed once per batch',
    [],
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
  ),
  reloads: counter('smshub_routing_reloads_total', 'Configuration reloads by outcome (ok, invalid, error)', [
    'outcome',
  ]),
  tablesLoaded: gauge('smshub_routing_tables_entries', 'Entries in the routing tables in force, by kind', [
    'kind',
  ]),
  qualityStats: gauge('smshub_routing_quality_stats', 'Connector/network delivery statistics held in memory'),
  adaptiveEstimates: gauge(
    'smshub_routing_adaptive_estimates',
    'Learnt (connector, destination, traffic type) estimates of the adaptive strategy held in memory',
  ),
  routeSuspected: gauge(
    'smshub_route_suspected',
    'Connectors suspected of being grey routes (1) by reason: fake_receipts, late_delivery, implausible_latency (routing.suspicion.v1)',
    ['connector', 'reason'],
  ),
  probes: counter(
    'smshub_routing_probes_total',
    'Grey-route probes: sent, confirmed (the handset answered)',
    ['event'],
  ),
};
