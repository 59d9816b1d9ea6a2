-- The contact state of a tracked source (issue 16, item 6): what the contact
-- rules need of each customer's messages, kept by clm.refresh so that
-- clm.contactable and the view contact_now compare stored values instead of
-- scanning the messages, and the contact columns of the customers table.
--
--   <target>.contact_state       one row per customer with messages: the days
--                                of its messages of the last 3650 days (the
--                                longest window a rule may name) and any dated
--                                later, latest first, with their channels and
--                                responses (parallel arrays)
--   <target>.contact_population  the population's messages and responses by
--                                channel and by hour of day, as of the last
--                                refit: the fallback of the best channel and hour
--   customers.best_channel, best_hour, contactable_from
--                                set by clm.refresh for the customers whose
--                                messages or purchases changed (all at a refit
--                                or rebuild)
--   <target>.contact_now         a view: per customer and channel, whether a
--                                message may be sent today, why not, and from
--                                when, under the source's rule set, evaluated
--                                against the stored state on the day it is read
--
-- The rules are applied by clm.contact_blocks (C, src/contact_rules.c): a
-- cap counts the messages of its window ending on the day and every message
-- dated after it, so that the answer is monotone in the day: a stored
-- "contactable from" stays right as days pass until something more is sent
-- or bought.

-- The rules that block a message, with the day each stops blocking.
CREATE FUNCTION @extschema@.contact_blocks(sent_days date[], channels text[], responded boolean[],
    stage text, last_purchase date, channel text, kind text, at date,
    cap_channels text[], cap_days integer[], cap_max integer[], quiet_days integer,
    promotion_quiet_days integer, winback_stages text[], churned_unresponsive integer,
    OUT contactable boolean, OUT reason text, OUT next_allowed date)
    RETURNS record
    AS 'MODULE_PATHNAME', 'clm_contact_blocks' LANGUAGE C STABLE PARALLEL SAFE;  -- STABLE: a reason names a date in the session's DateStyle
COMMENT ON FUNCTION @extschema@.contact_blocks(date[], text[], boolean[], text, date, text, text, date, text[], integer[], integer[], integer, integer, text[], integer) IS 'whether a message of a kind may be sent on a channel on a day to one customer (messages as parallel arrays, latest first; the rule set decomposed by clm.contact_rule_args), the first rule that blocks (ok if none), and the first day it may if nothing more is sent (NULL: a stage rule blocks)';

-- The best value of one dimension (channel, hour) for one customer.
CREATE FUNCTION @extschema@.contact_best_value(own_values text[], own_messages bigint[], own_responses bigint[],
    pop_values text[], pop_rates double precision[], numeric_order boolean)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_contact_best_value' LANGUAGE C STABLE PARALLEL SAFE;  -- STABLE: ties follow the collation
COMMENT ON FUNCTION @extschema@.contact_best_value(text[], bigint[], bigint[], text[], double precision[], boolean) IS 'the population value (channel, hour) with the highest response rate of one customer''s messages shrunk toward the population''s with a prior of 5 messages, (r + 5 p) / (n + 5) (ties: the smallest; numeric_order: as integers); NULL when the population has none';

-- A rule set decomposed into the arguments of clm.contact_blocks.
CREATE FUNCTION @extschema@.contact_rule_args(rules jsonb,
    OUT cap_channels text[], OUT cap_days integer[], OUT cap_max integer[], OUT quiet_days integer,
    OUT promotion_quiet_days integer, OUT winback_stages text[], OUT churned_unresponsive integer)
    RETURNS record LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT ARRAY(SELECT k.c->>'channel' FROM jsonb_array_elements(coalesce(rules->'caps', '[]')) WITH ORDINALITY k(c, o) ORDER BY k.o),
           ARRAY(SELECT (k.c->>'days')::int FROM jsonb_array_elements(coalesce(rules->'caps', '[]')) WITH ORDINALITY k(c, o) ORDER BY k.o),
           ARRAY(SELECT (k.c->>'max')::int FROM jsonb_array_elements(coalesce(rules->'caps', '[]')) WITH ORDINALITY k(c, o) ORDER BY k.o),
           (rules->>'quiet_days_after_purchase')::int, (rules->>'promotion_quiet_days')::int,
           CASE WHEN rules ? 'winback_stages' THEN ARRAY(SELECT jsonb_array_elements_text(rules->'winback_stages')) END,
           (rules->>'churned_unresponsive')::int
     WHERE @extschema@.contact_rules_check(rules)
$fn$;
COMMENT ON FUNCTION @extschema@.contact_rule_args(jsonb) IS 'internal: a contact rule set (checked by clm.contact_rules_check) as the arguments of clm.contact_blocks';

-- The SQL evaluating clm.contact_blocks for rows with the columns of
-- contact_state (s.) and contact_rule_args (a.), as text.
CREATE FUNCTION @extschema@.contact_blocks_sql(channel text, kind text, at text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('@extschema@.contact_blocks(s.sent_days, s.channels, s.responded, s.stage, s.last_purchase, %s, %s, %s,'
                  ' a.cap_channels, a.cap_days, a.cap_max, a.quiet_days, a.promotion_quiet_days, a.winback_stages,'
                  ' a.churned_unresponsive)', channel, kind, at)
$fn$;
COMMENT ON FUNCTION @extschema@.contact_blocks_sql(text, text, text) IS 'internal: the call of clm.contact_blocks over the columns of contact_state (s) and clm.contact_rule_args (a), as SQL text';

-- Makes the contact state tables and the view contact_now of a tracked
-- source with contacts (clm.track_contacts; clm.refresh for sources given
-- contacts by an earlier version), empty.
CREATE FUNCTION @extschema@.contact_create_state(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
BEGIN
    EXECUTE format($q$CREATE TABLE %I.contact_state (
        customer_id %s PRIMARY KEY,
        customer boolean NOT NULL DEFAULT false,
        stage text,
        last_purchase date,
        sent_days date[],
        channels text[],
        responded boolean[],
        changed_at timestamptz NOT NULL)$q$, t, @extschema@.track_base_type(r.source, r.customer_column));
    EXECUTE format('COMMENT ON TABLE %I.contact_state IS %L', t,
        'clm: what the contact rules read of each customer (clm.contact_blocks): stage, last purchase and messages, kept by clm.refresh');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.customer IS %L', t, 'true if the customer is in the customers table (false: messages only)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.stage IS %L', t, 'the stage of the customers row');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.last_purchase IS %L', t, 'the last purchase of the customers row');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.sent_days IS %L', t,
        'the days of the messages of the last 3650 days and any dated later, latest first');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.channels IS %L', t, 'the channel of each message (parallel to sent_days)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.responded IS %L', t, 'the response of each message (parallel to sent_days; NULL: unknown)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_state.changed_at IS %L', t, 'when the row last changed (refresh time)');
    EXECUTE format($q$CREATE TABLE %I.contact_population (
        dimension text NOT NULL,
        value text NOT NULL,
        messages bigint NOT NULL,
        responses bigint NOT NULL,
        PRIMARY KEY (dimension, value))$q$, t);
    EXECUTE format('COMMENT ON TABLE %I.contact_population IS %L', t,
        'clm: the messages with a known response and the responses of the whole population by channel and by hour of day, as of the last refit (the fallback of best_channel and best_hour)');
    EXECUTE format($q$CREATE VIEW %1$I.contact_now AS
WITH d AS MATERIALIZED (
    -- the day, the rule set and its channels, once
    SELECT @extschema@.track_as_of(ts.settings) AS today, tc.rule_set, rs.name IS NOT NULL AS known,
           (@extschema@.contact_rule_args(rs.rules)).*
      FROM @extschema@.tracked_source ts JOIN @extschema@.tracked_contacts tc USING (name)
      LEFT JOIN @extschema@.contact_rule_set rs ON rs.name = tc.rule_set
     WHERE ts.name = %2$L),
ch AS MATERIALIZED (
    SELECT p.value AS channel FROM %1$I.contact_population p WHERE p.dimension = 'channel'
    UNION
    SELECT x FROM d, pg_catalog.unnest(d.cap_channels) x WHERE x IS NOT NULL)
SELECT c.customer_id, ch.channel, a.today, b.contactable, b.reason, b.next_allowed,
       ch.channel = c.best_channel AS best, c.best_hour
  FROM %1$I.customers c CROSS JOIN d AS a CROSS JOIN ch
       LEFT JOIN %1$I.contact_state s ON s.customer_id = c.customer_id
       LEFT JOIN LATERAL (SELECT %3$s AS b WHERE a.known OFFSET 0) e ON true
       CROSS JOIN LATERAL (SELECT (e.b).contactable,
                                  coalesce((e.b).reason, pg_catalog.format('no contact rule set named "%%s"', a.rule_set)) AS reason,
                                  (e.b).next_allowed) b$q$,
        t, r.name, @extschema@.contact_blocks_sql('ch.channel', '''message''', 'a.today'));
    EXECUTE format('COMMENT ON VIEW %I.contact_now IS %L', t,
        'per customer and channel (the channels of the messages at the last refit and of the rule set''s caps): whether a message may be sent today under the source''s contact rule set (clm.set_contact_rule_set), the first rule that blocks, and the first day it may; evaluated when read, against the messages and purchases of the last refresh');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.today IS %L', t, 'the day of the answer: today in the source''s time zone (the as_of setting when fixed)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.contactable IS %L', t, 'true if a message may be sent on the channel today (NULL: the rule set does not exist)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.reason IS %L', t, 'ok, or the first rule that blocks (rule set order, as clm.contactable)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.next_allowed IS %L', t, 'the first day from today a message may be sent on the channel if nothing more is sent (NULL: a stage rule blocks)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.best IS %L', t, 'true for the customer''s best channel (customers.best_channel)');
    EXECUTE format('COMMENT ON COLUMN %I.contact_now.best_hour IS %L', t, 'the customer''s best hour of day (customers.best_hour)');
    PERFORM @extschema@.contact_grant_readers(r);
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_create_state(@extschema@.tracked_source) IS 'internal: creates the tables contact_state and contact_population and the view contact_now of a tracked source with contacts';

-- Brings the contact state of a tracked source up to date after its contacts
-- changed: every row (touched NULL: the contacts were reloaded) or those of
-- the customers with new messages (touched, their ids as text).  Every row
-- that changes gets changed_at = now() (a customer whose messages are all
-- gone keeps a row of NULL arrays), for clm.contact_derive.  The caller holds
-- the refresh lock and runs as the owner, with TimeZone set to the source's.
CREATE FUNCTION @extschema@.contact_state_update(r @extschema@.tracked_source, touched text[])
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    horizon date := @extschema@.track_as_of(r.settings) - 3650;
    ctype text;
BEGIN
    IF to_regclass(format('%I.contact_state', t)) IS NULL THEN
        PERFORM @extschema@.contact_create_state(r);
        touched := NULL;
    END IF;
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype FROM pg_attribute a
     WHERE a.attrelid = format('%I.contacts', t)::regclass AND a.attname = 'customer_id';
    -- the state rows of the customers concerned, made again from contacts (of
    -- the touched customers: read with the index on customer_id); NULL arrays
    -- if none of their messages is left within the horizon
    -- (the touched customers joined, not compared with = ANY: a list of
    -- thousands would be scanned for every row)
    EXECUTE format($q$
WITH g AS (
    SELECT m.customer_id,
           pg_catalog.array_agg(m.sent_day ORDER BY m.sent_day DESC, m.sent_at DESC) AS sent_days,
           pg_catalog.array_agg(m.channel ORDER BY m.sent_day DESC, m.sent_at DESC) AS channels,
           pg_catalog.array_agg(m.responded ORDER BY m.sent_day DESC, m.sent_at DESC) AS responded
      FROM %1$I.contacts m %3$s
     WHERE m.sent_day > $1 AND pg_catalog.isfinite(m.sent_day)
     GROUP BY m.customer_id),
who AS (SELECT customer_id FROM g
        UNION
        SELECT s.customer_id FROM %1$I.contact_state s %4$s)
INSERT INTO %1$I.contact_state AS o (customer_id, sent_days, channels, responded, changed_at)
SELECT w.customer_id, g.sent_days, g.channels, g.responded, pg_catalog.now()
  FROM who w LEFT JOIN g ON g.customer_id = w.customer_id
ON CONFLICT (customer_id) DO UPDATE
   SET sent_days = excluded.sent_days, channels = excluded.channels, responded = excluded.responded,
       changed_at = excluded.changed_at
 WHERE o.sent_days IS DISTINCT FROM excluded.sent_days OR o.channels IS DISTINCT FROM excluded.channels
    OR o.responded IS DISTINCT FROM excluded.responded$q$, t, ctype,
        CASE WHEN touched IS NOT NULL
             THEN format('JOIN (SELECT DISTINCT x::%s AS customer_id FROM pg_catalog.unnest($2) x) k ON k.customer_id = m.customer_id', ctype)
             ELSE '' END,
        CASE WHEN touched IS NOT NULL
             THEN format('WHERE s.customer_id IN (SELECT x::%s FROM pg_catalog.unnest($2) x)', ctype)
             ELSE '' END)
        USING horizon, touched;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_state_update(@extschema@.tracked_source, text[]) IS 'internal: remakes the contact state of every customer (touched NULL) or of the customers with new messages; called by clm.refresh and clm.rebuild under the refresh lock';

-- Sets the contact columns of the customers table (best_channel, best_hour,
-- contactable_from): of every customer (full: a refit or rebuild, which also
-- recomputes contact_population), or of those whose messages or purchases
-- changed in this transaction (contact_state.changed_at or
-- customers.profile_changed_at = now()).  NULL if the source has no contacts.
-- The caller holds the refresh lock.
--
-- Best channel and hour: over the customer's messages with a known response
-- up to the as-of day, each channel's (hour's) response rate shrunk toward the
-- population's with a prior of 5 messages, (r + 5 p) / (n + 5), the highest
-- (ties: the smallest); a customer without such messages gets the
-- population's best.  contactable_from: the first day from the as-of day a
-- message may be sent on the best channel under the source's rule set
-- ('infinity' when a stage rule blocks).
CREATE FUNCTION @extschema@.contact_derive(r @extschema@.tracked_source, all_rows boolean)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
    -- hashes of every customer's rows in memory rather than in batches on disk
    SET work_mem = '64MB'
AS $fn$
DECLARE
    t name := r.target_schema;
    c @extschema@.tracked_contacts;
    old_tz text := current_setting('TimeZone');
    rules jsonb;
    who text;
    fit_as_of date;
    n bigint;
BEGIN
    SELECT * INTO c FROM @extschema@.tracked_contacts tc WHERE tc.name = r.name;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF @extschema@.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    IF to_regclass(format('%I.contact_state', t)) IS NULL THEN
        PERFORM @extschema@.contact_state_update(r, NULL);
        all_rows := true;
    END IF;
    -- the as-of day of the fit, a parameter of the statements below: joined
    -- as the table clm_fit (never analysed), it made the planner read all
    -- the messages through their index
    EXECUTE format('SELECT as_of FROM %I.clm_fit', t) INTO fit_as_of;
    SELECT rs.rules INTO rules FROM @extschema@.contact_rule_set rs WHERE rs.name = c.rule_set;
    IF NOT FOUND THEN
        RAISE WARNING 'clm: the contact rule set "%" of tracked source "%" does not exist: contactable_from is NULL',
            c.rule_set, r.name
            USING HINT = 'Choose another with clm.set_contact_rule_set.';
    END IF;
    IF all_rows THEN
        EXECUTE format('DELETE FROM %I.contact_population', t);
        EXECUTE format($q$
INSERT INTO %1$I.contact_population (dimension, value, messages, responses)
SELECT k.dimension, k.value, pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE m.responded)
  FROM %1$I.contacts m,
       LATERAL (VALUES ('channel', m.channel),
                       ('hour', pg_catalog.date_part('hour', m.sent_at)::int::text)) k(dimension, value)
 WHERE m.sent_day <= $1 AND m.responded IS NOT NULL AND k.value IS NOT NULL
 GROUP BY 1, 2$q$, t) USING fit_as_of;
        who := format('SELECT customer_id FROM %I.customers', t);
    ELSE
        who := format('SELECT customer_id FROM %1$I.contact_state WHERE changed_at = pg_catalog.now()
                       UNION SELECT customer_id FROM %1$I.customers WHERE profile_changed_at = pg_catalog.now()', t);
    END IF;
    -- the stage and last purchase of the customers concerned, copied into
    -- their state rows (clm.contactable then reads one table)
    IF all_rows THEN
        EXECUTE format('UPDATE %I.contact_state s SET customer = false, stage = NULL, last_purchase = NULL'
                       ' WHERE s.customer AND NOT EXISTS (SELECT FROM %I.customers c WHERE c.customer_id = s.customer_id)', t, t);
    END IF;
    EXECUTE format($q$
INSERT INTO %1$I.contact_state AS o (customer_id, customer, stage, last_purchase, changed_at)
SELECT c.customer_id, true, c.stage, c.last_purchase, pg_catalog.now()
  FROM %1$I.customers c WHERE c.customer_id IN (%2$s)
ON CONFLICT (customer_id) DO UPDATE
   SET customer = true, stage = excluded.stage, last_purchase = excluded.last_purchase
 WHERE NOT o.customer OR o.stage IS DISTINCT FROM excluded.stage
    OR o.last_purchase IS DISTINCT FROM excluded.last_purchase$q$, t, who);
    EXECUTE format($q$
WITH who AS MATERIALIZED (%2$s),
pop AS (SELECT p.dimension, p.value, p.responses::float8 / p.messages AS p FROM %1$I.contact_population p),
own AS (
    SELECT m.customer_id, k.dimension, k.value, pg_catalog.count(*) AS n,
           pg_catalog.count(*) FILTER (WHERE m.responded) AS r
      FROM %1$I.contacts m,
           LATERAL (VALUES ('channel', m.channel),
                           ('hour', pg_catalog.date_part('hour', m.sent_at)::int::text)) k(dimension, value)
     WHERE %4$s m.sent_day <= $2 AND m.responded IS NOT NULL AND k.value IS NOT NULL
     GROUP BY 1, 2, 3),
popa AS (
    SELECT pg_catalog.array_agg(p.value) FILTER (WHERE p.dimension = 'channel') AS cv,
           pg_catalog.array_agg(p.p) FILTER (WHERE p.dimension = 'channel') AS cp,
           pg_catalog.array_agg(p.value) FILTER (WHERE p.dimension = 'hour') AS hv,
           pg_catalog.array_agg(p.p) FILTER (WHERE p.dimension = 'hour') AS hp
      FROM pop p),
-- one group per customer (its own rows, or one empty row): a single join of
-- who with own, whose sizes the planner cannot know; the population's arrays
-- joined after the grouping (carried through it, they made every row wide: a
-- sort of 63 MB on disk for 10,000 customers)
own_arrays AS (
    SELECT w.customer_id,
           pg_catalog.array_agg(o.value) FILTER (WHERE o.dimension = 'channel') AS cv,
           pg_catalog.array_agg(o.n) FILTER (WHERE o.dimension = 'channel') AS cn,
           pg_catalog.array_agg(o.r) FILTER (WHERE o.dimension = 'channel') AS cr,
           pg_catalog.array_agg(o.value) FILTER (WHERE o.dimension = 'hour') AS hv,
           pg_catalog.array_agg(o.n) FILTER (WHERE o.dimension = 'hour') AS hn,
           pg_catalog.array_agg(o.r) FILTER (WHERE o.dimension = 'hour') AS hr
      FROM who w LEFT JOIN own o ON o.customer_id = w.customer_id
     GROUP BY w.customer_id),
best AS (
    SELECT a.customer_id,
           @extschema@.contact_best_value(a.cv, a.cn, a.cr, pa.cv, pa.cp, false) AS best_channel,
           @extschema@.contact_best_value(a.hv, a.hn, a.hr, pa.hv, pa.hp, true)::int AS best_hour
      FROM own_arrays a CROSS JOIN popa pa),
upd AS (
    UPDATE %1$I.customers c
       SET best_channel = s.best_channel, best_hour = s.best_hour,
           contactable_from = CASE WHEN $1 IS NOT NULL AND s.best_channel IS NOT NULL THEN
                                  coalesce((%3$s).next_allowed, 'infinity') END
      FROM (SELECT b.*, st.stage, st.last_purchase, st.sent_days, st.channels, st.responded
              FROM best b LEFT JOIN %1$I.contact_state st ON st.customer_id = b.customer_id) s,
           @extschema@.contact_rule_args(coalesce($1, '{}')) a
     WHERE c.customer_id = s.customer_id
    RETURNING 1)
SELECT count(*) FROM upd$q$,
        t, who, @extschema@.contact_blocks_sql('s.best_channel', '''message''', 'c.as_of'),
        -- (every customer: all the messages, read in one pass, not customer by customer)
        CASE WHEN all_rows THEN '' ELSE 'm.customer_id IN (SELECT customer_id FROM who) AND' END)
        INTO n USING rules, fit_as_of;
    PERFORM set_config('TimeZone', old_tz, true);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_derive(@extschema@.tracked_source, boolean) IS 'internal: sets best_channel, best_hour and contactable_from in the customers table of a tracked source with contacts, for every customer (full, which also recomputes contact_population) or those whose messages or purchases changed in this transaction; called by clm.refresh and clm.rebuild under the refresh lock';

-- Chooses the rule set of a tracked source's contact columns and view.
CREATE FUNCTION @extschema@.set_contact_rule_set(source_name text, rule_set text)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
BEGIN
    IF rule_set IS NULL THEN
        RAISE EXCEPTION 'clm.set_contact_rule_set: rule_set must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF @extschema@.track_act_as(r, 'clm.set_contact_rule_set') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.tracked_contacts tc WHERE tc.name = source_name) THEN
        RAISE EXCEPTION 'clm.set_contact_rule_set: tracked source "%" has no contacts', source_name
            USING ERRCODE = '55000', HINT = 'Register the messages sent with clm.track_contacts.';
    END IF;
    IF NOT EXISTS (SELECT FROM @extschema@.contact_rule_set rs WHERE rs.name = rule_set) THEN
        RAISE EXCEPTION 'clm.set_contact_rule_set: no contact rule set named "%"', rule_set
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.contact_rule_set lists them.';
    END IF;
    PERFORM @extschema@.track_lock(r, true);
    UPDATE @extschema@.tracked_contacts tc SET rule_set = set_contact_rule_set.rule_set WHERE tc.name = source_name;
    RETURN @extschema@.contact_derive(r, true);
END
$fn$;
COMMENT ON FUNCTION @extschema@.set_contact_rule_set(text, text) IS 'chooses the contact rule set (clm.contact_rule_set) of a tracked source''s contactable_from column and contact_now view, and recomputes the column; returns the customers updated';
