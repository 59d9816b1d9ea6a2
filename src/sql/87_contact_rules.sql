-- Contact rules as data: named rule sets (clm.contact_rule_set) and
-- clm.contactable, which answers for every customer of a tracked source with
-- contacts (87_contact.sql) whether a message of a kind on a channel may be
-- sent on a day, and if not, why and from when.
--
-- A rule set is a jsonb object; every key is optional:
--   caps                        [{"channel": "email" (absent or null: all
--                               channels together), "days": 7, "max": 2}, ...]:
--                               at most max messages in the days days ending
--                               on the day (today's included)
--   quiet_days_after_purchase   no message at all within n days after a purchase
--   promotion_quiet_days        no promotion within n days after a purchase
--   winback_stages              win-back messages only to customers in these stages
--   churned_unresponsive        a churned customer is never contacted on a
--                               channel where their last n messages (with a
--                               known response) all went unanswered

-- Validates a rule set: true, or error 22023 naming what is wrong.
CREATE FUNCTION @extschema@.contact_rules_check(rules jsonb)
    RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    k text;
    c jsonb;
    v jsonb;
    n numeric;
    lo int;
BEGIN
    IF jsonb_typeof(rules) <> 'object' THEN
        RAISE EXCEPTION 'clm: a contact rule set is a json object, not %', jsonb_typeof(rules)
            USING ERRCODE = '22023';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(rules) LOOP
        IF k IN ('quiet_days_after_purchase', 'promotion_quiet_days', 'churned_unresponsive') THEN
            lo := (k = 'churned_unresponsive')::int;
            IF jsonb_typeof(v) <> 'number' THEN
                n := NULL;
            ELSE
                n := v::text::numeric;
            END IF;
            IF n IS NULL OR n <> trunc(n) OR n < lo OR n > 3650 THEN
                RAISE EXCEPTION 'clm: contact rule "%" must be a whole number from % to 3650, not %', k, lo, v
                    USING ERRCODE = '22023';
            END IF;
        ELSIF k = 'winback_stages' THEN
            IF jsonb_typeof(v) <> 'array' OR EXISTS (
                   SELECT FROM jsonb_array_elements(v) e
                    WHERE jsonb_typeof(e) <> 'string'
                       OR e #>> '{}' NOT IN ('prospect', 'new', 'active', 'at_risk', 'lapsed', 'churned', 'reactivated')) THEN
                RAISE EXCEPTION 'clm: contact rule "winback_stages" must be an array of stages, not %', v
                    USING ERRCODE = '22023',
                          HINT = 'The stages are prospect, new, active, at_risk, lapsed, churned and reactivated.';
            END IF;
        ELSIF k = 'caps' THEN
            IF jsonb_typeof(v) <> 'array' THEN
                RAISE EXCEPTION 'clm: contact rule "caps" must be an array, not %', v USING ERRCODE = '22023';
            END IF;
            FOR c IN SELECT * FROM jsonb_array_elements(v) LOOP
                IF jsonb_typeof(c) <> 'object'
                   OR EXISTS (SELECT FROM jsonb_object_keys(c) ck WHERE ck NOT IN ('channel', 'days', 'max'))
                   OR jsonb_typeof(c->'channel') NOT IN ('string', 'null')
                   OR jsonb_typeof(c->'days') IS DISTINCT FROM 'number'
                   OR jsonb_typeof(c->'max') IS DISTINCT FROM 'number' THEN
                    RAISE EXCEPTION 'clm: a contact cap is {"channel": text or null, "days": n, "max": n}, not %', c
                        USING ERRCODE = '22023';
                END IF;
                n := (c->>'days')::numeric;
                IF n <> trunc(n) OR n < 1 OR n > 3650 THEN
                    RAISE EXCEPTION 'clm: a contact cap''s "days" must be a whole number from 1 to 3650, not %', c->'days'
                        USING ERRCODE = '22023';
                END IF;
                n := (c->>'max')::numeric;
                IF n <> trunc(n) OR n < 1 OR n > 1000000 THEN
                    RAISE EXCEPTION 'clm: a contact cap''s "max" must be a whole number from 1 to 1000000, not %', c->'max'
                        USING ERRCODE = '22023',
                              HINT = 'To stop a channel, leave it out of the campaign rather than cap it at 0.';
                END IF;
            END LOOP;
        ELSE
            RAISE EXCEPTION 'clm: unknown contact rule "%"', k
                USING ERRCODE = '22023',
                      HINT = 'The rules are caps, quiet_days_after_purchase, promotion_quiet_days, winback_stages and churned_unresponsive.';
        END IF;
    END LOOP;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_rules_check(jsonb) IS 'validates a contact rule set (clm.contact_rule_set.rules): true, or error 22023 naming the bad rule';

CREATE TABLE @extschema@.contact_rule_set (
    name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 63),
    rules jsonb NOT NULL CHECK (@extschema@.contact_rules_check(rules)),
    description text,
    preset boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.contact_rule_set IS 'named contact rule sets used by clm.contactable (validated by clm.contact_rules_check). Presets (preset = true) ship with the extension; add your own under new names (your rows are dumped by pg_dump)';
COMMENT ON COLUMN @extschema@.contact_rule_set.name IS 'the name passed to clm.contactable';
COMMENT ON COLUMN @extschema@.contact_rule_set.rules IS 'the rules: caps, quiet_days_after_purchase, promotion_quiet_days, winback_stages, churned_unresponsive (docs/contacts.md)';
COMMENT ON COLUMN @extschema@.contact_rule_set.description IS 'what the rule set is for';
COMMENT ON COLUMN @extschema@.contact_rule_set.preset IS 'true for the rows shipped with the extension (not dumped by pg_dump; copy them under a new name to change them)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.contact_rule_set', 'WHERE NOT preset');
GRANT SELECT ON @extschema@.contact_rule_set TO PUBLIC;
-- the role that installs clm manages the rule sets (as the segment maps)
GRANT INSERT, UPDATE, DELETE ON @extschema@.contact_rule_set TO @extowner@;
INSERT INTO @extschema@.contact_rule_set VALUES
 ('default',
  '{"caps": [{"channel": null, "days": 1, "max": 1},
             {"channel": "email", "days": 7, "max": 2}, {"channel": "email", "days": 30, "max": 6},
             {"channel": "sms", "days": 7, "max": 1}, {"channel": "sms", "days": 30, "max": 2},
             {"channel": "push", "days": 7, "max": 3}],
    "quiet_days_after_purchase": 1, "promotion_quiet_days": 14,
    "winback_stages": ["lapsed"], "churned_unresponsive": 3}',
  'one message a day; email 2 a week and 6 in 30 days; sms 1 a week and 2 in 30 days; push 3 a week; nothing on the day after a purchase, no promotion for 14 days after one; win-back to lapsed customers only; churned customers not on a channel where their last 3 messages went unanswered',
  true);

-- The checks and inputs of clm.contactable: the errors of bad arguments, the
-- day (at, or the as-of day of the last refresh), the rule set decomposed
-- (clm.contact_rule_args), and the query reading the stage, last purchase and
-- messages of every customer from the contact state.  Run by clm.contactable
-- as its caller.
CREATE FUNCTION @extschema@.contactable_setup(source_name text, channel text, kind text, rule_set text, at date,
    OUT query text, OUT day date,
    OUT cap_channels text[], OUT cap_days integer[], OUT cap_max integer[], OUT quiet_days integer,
    OUT promotion_quiet_days integer, OUT winback_stages text[], OUT churned_unresponsive integer)
    RETURNS record
    LANGUAGE plpgsql STABLE PARALLEL UNSAFE  -- as clm.contactable, its only caller
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    rules jsonb;
    state text;
BEGIN
    IF channel IS NULL OR kind IS NULL OR rule_set IS NULL THEN
        RAISE EXCEPTION 'clm.contactable: channel, kind and rule_set must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF kind NOT IN ('message', 'promotion', 'winback') THEN
        RAISE EXCEPTION 'clm.contactable: unknown kind "%"', kind
            USING ERRCODE = '22023', HINT = 'The kinds are message, promotion and winback.';
    END IF;
    SELECT rs.rules INTO rules FROM @extschema@.contact_rule_set rs WHERE rs.name = rule_set;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'clm.contactable: no contact rule set named "%"', rule_set
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.contact_rule_set lists them.';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.tracked_contacts tc WHERE tc.name = source_name) THEN
        RAISE EXCEPTION 'clm.contactable: tracked source "%" has no contacts', source_name
            USING ERRCODE = '55000', HINT = 'Register the messages sent with clm.track_contacts.';
    END IF;
    state := format('%I.contact_state', t);
    IF to_regclass(state) IS NULL THEN
        -- contacts registered by 0.2 and no refresh since the update: the
        -- state made here from customers and contacts (a scan of the messages)
        state := format($q$(SELECT c.customer_id, true AS customer, c.stage, c.last_purchase,
       g.sent_days, g.channels, g.responded
  FROM %1$I.customers c LEFT JOIN
       (SELECT m.customer_id,
               pg_catalog.array_agg(m.sent_day ORDER BY m.sent_day DESC, m.sent_at DESC) AS sent_days,
               pg_catalog.array_agg(m.channel ORDER BY m.sent_day DESC, m.sent_at DESC) AS channels,
               pg_catalog.array_agg(m.responded ORDER BY m.sent_day DESC, m.sent_at DESC) AS responded
          FROM %1$I.contacts m WHERE pg_catalog.isfinite(m.sent_day) GROUP BY m.customer_id) g
       ON g.customer_id = c.customer_id)$q$, t);
    END IF;
    day := at;
    IF day IS NULL AND pg_catalog.has_table_privilege(format('%I.clm_fit', t), 'SELECT') THEN
        -- every customers row carries the as_of of the fit (clm.refresh
        -- derives them from clm_fit): its one row read rather than a scan
        EXECUTE format('SELECT f.as_of FROM %I.clm_fit f WHERE EXISTS (SELECT FROM %I.customers)', t, t) INTO day;
    ELSIF day IS NULL THEN
        -- (from customers, which readers may read: clm_fit is the owner's)
        EXECUTE format('SELECT max(as_of) FROM %I.customers', t) INTO day;
    END IF;
    IF day IS NULL OR NOT isfinite(day) THEN
        RAISE EXCEPTION 'clm.contactable: at must be a finite day' USING ERRCODE = '22023';
    END IF;
    query := format($q$SELECT s.customer_id::pg_catalog.text, s.stage::pg_catalog.text,
       s.last_purchase::pg_catalog.date, s.sent_days::pg_catalog.date[], s.channels::pg_catalog.text[],
       s.responded::pg_catalog.bool[]
  FROM %s s WHERE s.customer$q$, state);
    SELECT a.cap_channels, a.cap_days, a.cap_max, a.quiet_days, a.promotion_quiet_days, a.winback_stages,
           a.churned_unresponsive
      INTO cap_channels, cap_days, cap_max, quiet_days, promotion_quiet_days, winback_stages, churned_unresponsive
      FROM @extschema@.contact_rule_args(rules) a;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contactable_setup(text, text, text, text, date) IS 'internal: the argument checks of clm.contactable, its day, its rule set as the arguments of clm.contact_blocks, and the query reading every customer''s contact state';


-- Whether each customer of a tracked source may be sent a message of a kind
-- (message, promotion, winback) on a channel on a day (default: the as-of
-- day of the last refresh), under a named rule set.  The rules are checked in
-- this order and the first that blocks is the reason: churned and
-- unresponsive on the channel, win-back to a stage not allowed, quiet period
-- after a purchase, promotion too soon after a purchase, caps (the first in
-- the rule set's order).  next_allowed is the day from which the blocking
-- time rules (quiet periods, caps) all pass if nothing more is sent; NULL
-- when a stage rule blocks (it waits for the customer, not for a day).  The
-- stage, last purchase and messages are those of the contact state (as of
-- the last refresh, 87_contact_state.sql), which holds a row for every
-- customer of the customers table: one pass over it, read by SPI as the
-- caller, the rules applied to each row as it comes (src/contact_scan.c, the
-- rules of clm.contact_blocks), no scan of the messages.
CREATE FUNCTION @extschema@.contactable(source_name text, channel text, kind text DEFAULT 'message',
    rule_set text DEFAULT 'default', at date DEFAULT NULL)
    RETURNS TABLE (customer_id text, contactable boolean, reason text, next_allowed date)
    AS 'MODULE_PATHNAME', 'clm_contactable'
    LANGUAGE C STABLE PARALLEL UNSAFE  -- reads the contact state by SPI
    SET search_path = pg_catalog, pg_temp
    SET jit = off;
COMMENT ON FUNCTION @extschema@.contactable(text, text, text, text, date) IS 'for every customer of a tracked source with contacts: whether a message of a kind (message, promotion, winback) may be sent on a channel on a day under a named rule set (clm.contact_rule_set), the reason, and the next day it may (one pass over the customers and their stored contact state)';
