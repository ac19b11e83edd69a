-- 0340_routing_adaptive: the adaptive strategy (services/routing/src/domain/adaptive.ts).
--   strategy_options of an adaptive rule: {"minSamples": 30, "prior": {"deliveryRatio": 0.9, "strength": 10},
--   "exploration": 0.05, "sla": {"OTP": {"minRatio": 0.95, "maxP95Ms": 10000}} or {"minRatio": 0.9},
--   "pin": "<connector id>"}. Like least_cost, it compares prices in strategy_currency.

ALTER TABLE routing_rules DROP CONSTRAINT IF EXISTS routing_rules_strategy_check;
ALTER TABLE routing_rules ADD CONSTRAINT routing_rules_strategy_check
  CHECK (strategy IN ('priority', 'weighted', 'least_cost', 'best_quality', 'score', 'adaptive'));

ALTER TABLE routing_rules DROP CONSTRAINT IF EXISTS routing_rules_adaptive_currency_check;
ALTER TABLE routing_rules ADD CONSTRAINT routing_rules_adaptive_currency_check
  CHECK (action <> 'route' OR strategy <> 'adaptive' OR strategy_currency IS NOT NULL);
