-- 0311_routing_firewall_decide: routing's firewall windows decided in one round trip per consumed batch.
--   The function locks the batch's keys (velocity counters of the current bucket, duplicate keys, message
--   ids: upserts in the sorted order the caller gives, so two batches never deadlock on each other), reads
--   them after the locks (each statement of a function takes a new snapshot: it sees what the previous
--   holder committed), decides every message in batch order, first come first served, as
--   services/routing/src/domain/shared-windows.ts decideStateful does, and adds what it admitted. Called as
--   one statement, it is one transaction; routing's round trips per batch go from four to one.
--
-- Arguments (arrays; indexes are 1-based):
--   ids           message ids, one per check, in batch order (distinct)
--   need_check    per need, in check order (a check's duplicate needs, then its velocity needs): its check
--   need_vel      per need: index into the velocity keys, NULL for a duplicate need
--   need_dup      per need: index into the duplicate keys, NULL for a velocity need
--   need_limit    per need: the velocity limit, NULL for a duplicate need
--   v_rule, v_key, v_bucket, v_expires   the distinct velocity keys (sorted) with the batch's bucket and
--                                        when that bucket stops counting (epoch ms)
--   d_rule, d_key, d_expires             the distinct duplicate keys (sorted) and their expiry if taken now
--   sorted_ids    ids sorted (the lock order of their rows)
--   now_ms        the batch's clock; remember_until: expiry of the admitted ids
-- Returns one row per rejected check: the check, the need that rejected it, and for a duplicate need the
-- first message's id. Checks not returned are admitted (or were admitted before: a redelivery).
CREATE FUNCTION routing_firewall_decide(
  ids text[], need_check int[], need_vel int[], need_dup int[], need_limit int[],
  v_rule text[], v_key text[], v_bucket bigint[], v_expires bigint[],
  d_rule text[], d_key text[], d_expires bigint[],
  sorted_ids text[], now_ms bigint, remember_until bigint)
RETURNS TABLE (check_no int, need_no int, first_id text)
LANGUAGE plpgsql AS $$
DECLARE
  nc int := coalesce(array_length(ids, 1), 0);
  nn int := coalesce(array_length(need_check, 1), 0);
  nv int := coalesce(array_length(v_rule, 1), 0);
  nd int := coalesce(array_length(d_rule, 1), 0);
  totals int[];
  firsts text[];
  done boolean[];
  added int[] := array_fill(0, ARRAY[nv]);
  new_first text[] := array_fill(NULL::text, ARRAY[nd]);
  admitted boolean[] := array_fill(false, ARRAY[nc]);
  c int;
  j int := 1;
  k int;
  first_need int;
  rejected_by int;
  fid text;
BEGIN
  -- 1. Locks, in a fixed order: counters, duplicate keys, message ids (each sorted by the caller).
  INSERT INTO routing_firewall_counters AS t (rule_key, key, bucket, n, expires_at_ms)
  SELECT r, k2, b, 0, e FROM unnest(v_rule, v_key, v_bucket, v_expires) WITH ORDINALITY AS u(r, k2, b, e, o)
   ORDER BY o
  ON CONFLICT (rule_key, key, bucket) DO UPDATE SET n = t.n;
  INSERT INTO routing_firewall_duplicates AS t (rule_key, key, first_message_id, expires_at_ms)
  SELECT r, k2, NULL, 0 FROM unnest(d_rule, d_key) WITH ORDINALITY AS u(r, k2, o) ORDER BY o
  ON CONFLICT (rule_key, key) DO UPDATE SET expires_at_ms = t.expires_at_ms;
  INSERT INTO routing_firewall_admitted AS t (hub_message_id, expires_at_ms)
  SELECT id, 0 FROM unnest(sorted_ids) WITH ORDINALITY AS u(id, o) ORDER BY o
  ON CONFLICT (hub_message_id) DO UPDATE SET expires_at_ms = t.expires_at_ms;

  -- 2. Reads, after the locks: window totals (the current bucket and the 10 before it), open duplicate
  --    keys, messages already admitted.
  SELECT coalesce(array_agg(coalesce(s.n, 0) ORDER BY u.o), '{}') INTO totals
    FROM unnest(v_rule, v_key, v_bucket) WITH ORDINALITY AS u(r, k2, b, o)
    LEFT JOIN LATERAL (
      SELECT sum(x.n)::int AS n FROM routing_firewall_counters x
       WHERE x.rule_key = u.r AND x.key = u.k2 AND x.bucket > u.b - 11 AND x.bucket <= u.b) s ON true;
  SELECT coalesce(array_agg(CASE WHEN t.expires_at_ms > now_ms THEN t.first_message_id END ORDER BY u.o), '{}')
    INTO firsts
    FROM unnest(d_rule, d_key) WITH ORDINALITY AS u(r, k2, o)
    LEFT JOIN routing_firewall_duplicates t ON t.rule_key = u.r AND t.key = u.k2;
  SELECT coalesce(array_agg(coalesce(a.expires_at_ms > now_ms, false) ORDER BY u.o), '{}') INTO done
    FROM unnest(ids) WITH ORDINALITY AS u(id, o)
    LEFT JOIN routing_firewall_admitted a ON a.hub_message_id = u.id;

  -- 3. Decisions in batch order.
  FOR c IN 1..nc LOOP
    first_need := j;
    WHILE j <= nn AND need_check[j] = c LOOP
      j := j + 1;
    END LOOP;
    CONTINUE WHEN done[c];
    rejected_by := NULL;
    fid := NULL;
    FOR k IN first_need..j - 1 LOOP
      IF need_dup[k] IS NOT NULL THEN
        fid := coalesce(new_first[need_dup[k]], firsts[need_dup[k]]);
        IF fid IS NOT NULL AND fid <> ids[c] THEN
          rejected_by := k;
          EXIT;
        END IF;
        fid := NULL;
      ELSIF totals[need_vel[k]] + added[need_vel[k]] >= need_limit[k] THEN
        rejected_by := k;
        EXIT;
      END IF;
    END LOOP;
    IF rejected_by IS NOT NULL THEN
      check_no := c;
      need_no := rejected_by;
      first_id := fid;
      RETURN NEXT;
      CONTINUE;
    END IF;
    FOR k IN first_need..j - 1 LOOP
      IF need_dup[k] IS NOT NULL THEN
        IF new_first[need_dup[k]] IS NULL AND firsts[need_dup[k]] IS NULL THEN
          new_first[need_dup[k]] := ids[c];
        END IF;
      ELSE
        added[need_vel[k]] := added[need_vel[k]] + 1;
      END IF;
    END LOOP;
    admitted[c] := true;
  END LOOP;

  -- 4. What the batch admitted.
  UPDATE routing_firewall_counters t SET n = t.n + u.a
    FROM unnest(v_rule, v_key, v_bucket, added) AS u(r, k2, b, a)
   WHERE u.a > 0 AND t.rule_key = u.r AND t.key = u.k2 AND t.bucket = u.b;
  UPDATE routing_firewall_duplicates t SET first_message_id = u.f, expires_at_ms = u.e
    FROM unnest(d_rule, d_key, new_first, d_expires) AS u(r, k2, f, e)
   WHERE u.f IS NOT NULL AND t.rule_key = u.r AND t.key = u.k2;
  UPDATE routing_firewall_admitted t SET expires_at_ms = remember_until
    FROM unnest(ids, admitted) AS u(id, a)
   WHERE u.a AND t.hub_message_id = u.id;
END
$$;

COMMENT ON FUNCTION routing_firewall_decide IS
  'Decides and records one batch of routing firewall duplicate/velocity checks (services/routing/src/firewall-store.ts)';
