-- 0341_routing_reroute: a routing rule's policy for re-routing fast failures (issue 21 item 2).
--   routing_rules.reroute  {"enabled": true, "failures": ["UNDELIV", "REJECTD:045"], "exceptErrors": ["069"],
--                           "windowMs": 30000}; every key optional; NULL = routing's defaults (re-route OTP and
--                           transactional traffic on UNDELIV or REJECTD within 30 s of acceptance).
-- Written by admin (validated there), read by routing, which resolves it per message into SmsRouted.reroute.
ALTER TABLE routing_rules ADD COLUMN reroute jsonb CHECK (reroute IS NULL OR jsonb_typeof(reroute) = 'object');
