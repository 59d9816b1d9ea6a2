-- Contacts, item 6 of issue 16 (0.2 -> 0.3): the rule set of a source's
-- contact columns (clm.tracked_contacts.rule_set), and the functions that
-- changed to keep the contact state and the customers columns best_channel,
-- best_hour and contactable_from: replaced in place (CREATE OR REPLACE keeps
-- each function's identity, which a DROP would not), their definitions those
-- of src/sql/ (83_track_schema.sql, 87_contact.sql, 87_contact_rules.sql;
-- clm.refresh and clm.rebuild_internal, which call clm.contact_derive, are
-- replaced by 80_citus_track.sql, which changes them too).  The new objects
-- come from 70_contact_state.sql, a
-- link to src/sql/87_contact_state.sql.  The customers tables get the three
-- columns from clm.upgrade_tracked (99_track_upgrade.sql); a source with
-- contacts gets its contact state at its first clm.refresh.
-- (added without a default, filled, then given it: a column added with a
-- default keeps it as a "missing value" in pg_attribute, which a fresh table
-- has not; superuser: row security does not hide rows from the update)
ALTER TABLE @extschema@.tracked_contacts ADD COLUMN rule_set text;
UPDATE @extschema@.tracked_contacts SET rule_set = 'default';
ALTER TABLE @extschema@.tracked_contacts ALTER COLUMN rule_set SET DEFAULT 'default',
    ALTER COLUMN rule_set SET NOT NULL;
COMMENT ON COLUMN @extschema@.tracked_contacts.rule_set IS 'the contact rule set (clm.contact_rule_set) of the customers'' contactable_from and the view contact_now (clm.set_contact_rule_set)';

CREATE OR REPLACE FUNCTION @extschema@.track_customers_columns(OUT col name, OUT type text, OUT expr text, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
VALUES
 ('customer_id', NULL,
  'x.customer_id',
  'customer id (as in the source)'),
 ('as_of', 'date',
  'x.as_of',
  'day the row describes (date): the refresh day in the source''s time zone, or the fixed as_of setting'),
 ('first_purchase', 'date',
  '(x.sm).first_purchase',
  'first purchase day (date)'),
 ('last_purchase', 'date',
  '(x.sm).last_purchase',
  'last purchase day (date)'),
 ('orders', 'integer',
  '(x.sm).orders',
  'purchase days (count; orders on one day count once)'),
 ('frequency', 'integer',
  '(x.sm).frequency',
  'repeat purchase days = orders - 1 (count)'),
 ('transactions', 'bigint',
  '(x.sm).transactions',
  'purchase events, every order counted (count)'),
 ('recency_days', 'integer',
  '(x.sm).recency_days',
  'last_purchase - first_purchase (days)'),
 ('tenure_days', 'integer',
  '(x.sm).tenure_days',
  'as_of - first_purchase (days)'),
 ('days_since_last_purchase', 'integer',
  '(x.sm).days_since_last_purchase',
  'as_of - last_purchase (days)'),
 ('monetary', 'numeric',
  'round((x.sm).monetary, 4)',
  'mean net spend of the repeat purchase days (currency units, rounded to 4 decimals, the precision amounts are kept to; 0 with no repeat purchase, as in clm.summary)'),
 ('total_spend', 'numeric',
  '(x.sm).total_spend',
  'net spend of all purchase days, refunds subtracted (currency units)'),
 ('first_seen', 'date',
  '(x.sm).first_seen',
  'first day with any event (date)'),
 ('last_seen', 'date',
  '(x.sm).last_seen',
  'last day with any event (date)'),
 ('active_days', 'integer',
  '(x.sm).active_days',
  'days with any event (count)'),
 ('days_since_last_seen', 'integer',
  '(x.sm).days_since_last_seen',
  'as_of - last_seen (days)'),
 ('mean_gap_days', 'double precision',
  'round((x.sm).mean_gap_days::numeric, 2)::float8',
  'mean gap between purchase days = recency_days / frequency (days, rounded to 2 decimals)'),
 ('r_score', 'integer',
  '(x.sc).r_score',
  'RFM recency score, 1 (longest ago) to n (most recent), population breakpoints of the last refit'),
 ('f_score', 'integer',
  '(x.sc).f_score',
  'RFM frequency score, 1 (fewest purchase days) to n'),
 ('m_score', 'integer',
  '(x.sc).m_score',
  'RFM monetary score, 1 (lowest total spend) to n'),
 ('rfm_code', 'text',
  '(x.sc).rfm_code',
  'r, f and m scores as three digits'),
 ('rfm_segment', 'text',
  '(@extschema@.rfm_segment((x.sc).r_score, (x.sc).f_score, (x.sc).m_score, {rfm_map})).segment',
  'segment of the score cell in the configured segment map (rfm_map setting)'),
 ('stage', 'text',
  '(x.st).stage',
  'lifecycle stage: prospect, new, active, at_risk, lapsed, churned or reactivated (clm.stage)'),
 ('stage_reason', 'text',
  '(x.st).reason',
  'why the customer is in that stage, in words'),
 ('expected_gap_days', 'double precision',
  'round((x.st).expected_gap_days::numeric, 2)::float8',
  'the customer''s expected gap between purchases, shrunk toward the population''s (days, rounded to 2 decimals)'),
 ('p_alive', 'double precision',
  'round(@extschema@.p_alive(x.model, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'probability that the customer is still active, from the fitted purchase model (0 to 1, rounded to 4 decimals)'),
 ('churn_probability', 'double precision',
  'round(@extschema@.churn_probability(x.model, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  '1 - p_alive (0 to 1, rounded to 4 decimals)'),
 ('expected_purchases_30d', 'double precision',
  'round(@extschema@.expected_purchases(x.model, 30 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 30 days (count, rounded to 4 decimals)'),
 ('expected_purchases_90d', 'double precision',
  'round(@extschema@.expected_purchases(x.model, 90 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 90 days (count, rounded to 4 decimals)'),
 ('expected_purchases_365d', 'double precision',
  'round(@extschema@.expected_purchases(x.model, 365 / 7.0, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 4)::float8',
  'expected purchase days in the next 365 days (count, rounded to 4 decimals)'),
 ('expected_spend', 'double precision',
  'round(x.spend::numeric, 2)::float8',
  'expected spend per purchase day, Gamma-Gamma conditional mean (currency units, rounded to 2 decimals; NULL when refunds make the mean repeat spend zero or negative)'),
 ('clv', 'double precision',
  'round(@extschema@.clv(x.model, {horizon}, {weekly_rate}, {margin}::float8, x.spend, (x.b).x, (x.b).t_x, (x.b).t)::numeric, 2)::float8',
  'customer lifetime value over clv_horizon_weeks: margin x expected spend (unrounded) x discounted expected purchases (currency units, rounded to 2 decimals)'),
 ('preferred_channel', 'text',
  '@extschema@.preferred_channel(x.profile, x.as_of, {half_life}::float8)',
  'channel with the highest recency-weighted engagement (clm.preferred_channel)'),
 ('profile_changed_at', 'timestamp with time zone',
  'x.changed_at',
  'when the customer''s stored profile last changed (refresh time)'),
 -- set by clm.contact_derive after the row is written (87_contact_state.sql)
 ('best_channel', 'text',
  'NULL::text',
  'channel with the highest response rate of the customer''s messages, shrunk toward the population''s (the population''s best without messages; NULL without contacts: clm.track_contacts)'),
 ('best_hour', 'integer',
  'NULL::integer',
  'hour of day (0-23, source time zone) with the highest response rate, shrunk toward the population''s (NULL without contacts)'),
 ('contactable_from', 'date',
  'NULL::date',
  'first day from as_of a message may be sent on best_channel under the source''s contact rule set, if nothing more is sent (infinity: a stage rule blocks; NULL without contacts); contact_now gives every channel')
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_columns() IS 'internal: the columns of a tracked source''s customers table (name, type, SQL expression, comment), in table order';

CREATE OR REPLACE FUNCTION @extschema@.contact_refresh(r @extschema@.tracked_source, reload boolean)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    c @extschema@.tracked_contacts;
    t name := r.target_schema;
    old_tz text := current_setting('TimeZone');
    op text;
    n bigint;
    touched text[];
BEGIN
    SELECT * INTO c FROM @extschema@.tracked_contacts tc WHERE tc.name = r.name;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF @extschema@.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    IF c.incremental AND NOT reload THEN
        EXECUTE format('SELECT op FROM %I.clm_contacts_pending WHERE op IS NOT NULL LIMIT 1', t) INTO op;
    END IF;
    IF reload OR op IS NOT NULL OR NOT c.incremental THEN
        -- one statement: the queue emptied and the table read in one snapshot
        EXECUTE format($q$
WITH %s
old AS (DELETE FROM %I.contacts),
ins AS (INSERT INTO %I.contacts SELECT %s FROM %s WHERE %I IS NOT NULL AND %I IS NOT NULL RETURNING 1)
SELECT count(*) FROM ins$q$,
            CASE WHEN c.incremental THEN format('gone AS (DELETE FROM %I.clm_contacts_pending),', t) ELSE '' END,
            t, t, @extschema@.contact_select_sql(c, false), c.source, c.customer_column, c.time_column)
            INTO n;
        PERFORM @extschema@.contact_state_update(r, NULL);  -- 87_contact_state.sql
    ELSE
        EXECUTE format($q$
WITH moved AS (DELETE FROM %I.clm_contacts_pending WHERE op IS NULL RETURNING *),
ins AS (INSERT INTO %I.contacts SELECT %s FROM moved RETURNING customer_id)
SELECT count(*), pg_catalog.array_agg(DISTINCT customer_id::pg_catalog.text) FROM ins$q$,
            t, t, @extschema@.contact_select_sql(c, true))
            INTO n, touched;
        IF n > 0 THEN
            PERFORM @extschema@.contact_state_update(r, touched);
        END IF;
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_refresh(@extschema@.tracked_source, boolean) IS 'internal: merges the queued messages of a tracked source into its contacts table (or reloads them all); called by clm.refresh and clm.rebuild under the refresh lock';

CREATE OR REPLACE FUNCTION @extschema@.contact_reader_relations(t name)
    RETURNS text[] LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(array_agg(v.rel ORDER BY v.ord), '{}')
      FROM unnest(ARRAY['contacts', 'contact_pressure', 'contact_response_rates', 'contact_best',
                        'contact_state', 'contact_population', 'contact_now',
                        'audience_members', 'audience_changes']) WITH ORDINALITY AS v(rel, ord)
     WHERE to_regclass(format('%I.%I', t, v.rel)) IS NOT NULL
$fn$;
COMMENT ON FUNCTION @extschema@.contact_reader_relations(name) IS 'internal: the contact and audience tables and views of a tracked source''s schema that clm.grant_reader gives SELECT on';

CREATE OR REPLACE FUNCTION @extschema@.track_contacts(source_name text, contacts regclass,
    customer_column name, time_column name, channel_column name DEFAULT NULL,
    campaign_column name DEFAULT NULL, delivered_column name DEFAULT NULL,
    opened_column name DEFAULT NULL, clicked_column name DEFAULT NULL,
    converted_column name DEFAULT NULL)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    kind "char";
    incremental boolean;
    ctype text;
    ttype text;
    col name;
    g oid;
    role_sql text;
    n bigint;
BEGIN
    IF contacts IS NULL OR customer_column IS NULL OR time_column IS NULL THEN
        RAISE EXCEPTION 'clm.track_contacts: contacts, customer_column and time_column must not be NULL'
            USING ERRCODE = '22004';
    END IF;
    IF @extschema@.track_act_as(r, 'clm.track_contacts') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM @extschema@.track_lock(r, true);
    IF EXISTS (SELECT FROM @extschema@.tracked_contacts tc WHERE tc.name = source_name) THEN
        RAISE EXCEPTION 'clm.track_contacts: tracked source "%" already has contacts', source_name
            USING ERRCODE = '42710', HINT = 'clm.untrack_contacts removes them.';
    END IF;
    SELECT c.relkind INTO kind FROM pg_class c WHERE c.oid = contacts;
    IF kind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track_contacts: % is not a table, view or foreign table', contacts
            USING ERRCODE = '42809';
    END IF;
    PERFORM @extschema@.track_citus_refuse_contacts(r, 'clm.track_contacts', contacts);
    incremental := kind IN ('r', 'p');
    FOREACH col IN ARRAY ARRAY[customer_column, time_column, channel_column, campaign_column,
                               delivered_column, opened_column, clicked_column, converted_column] LOOP
        IF col IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute a
                                           WHERE a.attrelid = contacts AND a.attname = col
                                             AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'clm.track_contacts: column "%" of % does not exist', col, contacts
                USING ERRCODE = '42703';
        END IF;
    END LOOP;
    ctype := @extschema@.track_base_type(contacts, customer_column);
    IF ctype IS DISTINCT FROM @extschema@.track_base_type(r.source, r.customer_column) THEN
        RAISE EXCEPTION 'clm.track_contacts: customer column "%" is of type %, the events'' customer column of type %',
            customer_column, ctype, @extschema@.track_base_type(r.source, r.customer_column)
            USING ERRCODE = '42804';
    END IF;
    ttype := @extschema@.track_base_type(contacts, time_column);
    IF ttype NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
        RAISE EXCEPTION 'clm.track_contacts: time column "%" is of type %', time_column, ttype
            USING ERRCODE = '42804', HINT = 'The time column is a timestamptz, timestamp or date.';
    END IF;
    FOREACH col IN ARRAY ARRAY[delivered_column, opened_column, clicked_column, converted_column] LOOP
        IF col IS NOT NULL AND @extschema@.track_base_type(contacts, col) <> 'boolean' THEN
            RAISE EXCEPTION 'clm.track_contacts: response column "%" is of type %', col,
                @extschema@.track_base_type(contacts, col)
                USING ERRCODE = '42804', HINT = 'delivered, opened, clicked and converted are boolean columns.';
        END IF;
    END LOOP;

    INSERT INTO @extschema@.tracked_contacts VALUES (source_name, contacts, customer_column, time_column,
        channel_column, campaign_column, delivered_column, opened_column, clicked_column, converted_column,
        incremental);
    EXECUTE format($q$CREATE TABLE %I.contacts (
        customer_id %s NOT NULL,
        sent_at timestamptz NOT NULL,
        sent_day date NOT NULL,
        channel text,
        campaign text,
        delivered boolean,
        opened boolean,
        clicked boolean,
        converted boolean,
        responded boolean)$q$, t, ctype);
    EXECUTE format('CREATE INDEX ON %I.contacts (customer_id, sent_day)', t);
    EXECUTE format('COMMENT ON TABLE %I.contacts IS %L', t,
        format('the messages of %s, merged incrementally by clm.refresh(%L)', contacts, source_name));
    EXECUTE format('COMMENT ON COLUMN %I.contacts.sent_day IS %L', t, 'the day the message was sent, in the source''s time zone');
    EXECUTE format('COMMENT ON COLUMN %I.contacts.responded IS %L', t,
        'opened, clicked or converted (true if any is true); NULL when none of them is tracked');
    IF incremental THEN
        EXECUTE format($q$CREATE TABLE %I.clm_contacts_pending (
            customer_id %s,
            sent_at %s,
            channel text,
            campaign text,
            delivered boolean,
            opened boolean,
            clicked boolean,
            converted boolean,
            op text)$q$, t, ctype, ttype);
        EXECUTE format('COMMENT ON TABLE %I.clm_contacts_pending IS %L', t,
            format('clm internal: messages inserted into %s and not yet merged by clm.refresh; op = a change that needs a reload', contacts));
        -- every role that may write to the contacts table may queue
        FOR g IN
            SELECT DISTINCT a.grantee
              FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
             WHERE c.oid = contacts AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
            UNION
            SELECT relowner FROM pg_class WHERE oid = contacts
        LOOP
            CONTINUE WHEN g <> 0 AND g::regrole::text = current_user::text;
            role_sql := CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END;
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', t, role_sql);
            EXECUTE format('GRANT INSERT ON %I.clm_contacts_pending TO %s', t, role_sql);
        END LOOP;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.contact_capture(%L, %L, %L, %L, %L, %L, %L, %L, %L)',
                       'clm_contact_capture_' || tag, contacts, t, customer_column, time_column,
                       coalesce(channel_column, ''), coalesce(campaign_column, ''), coalesce(delivered_column, ''),
                       coalesce(opened_column, ''), coalesce(clicked_column, ''), coalesce(converted_column, ''));
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.contact_invalidate(%L)',
                       'clm_contact_invalidate_' || tag, contacts, t);
    END IF;
    PERFORM @extschema@.contact_create_views(r);
    PERFORM @extschema@.contact_create_state(r);  -- 87_contact_state.sql
    PERFORM @extschema@.contact_grant_readers(r);
    n := @extschema@.contact_refresh(r, true);
    PERFORM @extschema@.contact_derive(r, true);
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_contacts(text, regclass, name, name, name, name, name, name, name, name) IS 'registers a table of messages sent (customer, time, and optionally channel, campaign, delivered, opened, clicked, converted) with a tracked source: clm.refresh then merges its new rows into <target>.contacts, as it does the events; returns the messages loaded';

CREATE OR REPLACE FUNCTION @extschema@.untrack_contacts(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    c @extschema@.tracked_contacts;
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
BEGIN
    SELECT * INTO c FROM @extschema@.tracked_contacts tc WHERE tc.name = source_name;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF @extschema@.track_act_as(r, 'clm.untrack_contacts') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF c.incremental AND to_regclass(c.source::text) IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_contact_capture_' || tag, c.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_contact_invalidate_' || tag, c.source);
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %I.contact_now, %I.contact_best, %I.contact_response_rates, %I.contact_pressure',
                   t, t, t, t);
    EXECUTE format('DROP TABLE IF EXISTS %I.contacts, %I.clm_contacts_pending, %I.contact_state, %I.contact_population',
                   t, t, t, t);
    IF to_regclass(format('%I.customers', t)) IS NOT NULL THEN
        EXECUTE format('UPDATE %I.customers SET best_channel = NULL, best_hour = NULL, contactable_from = NULL', t);
    END IF;
    DELETE FROM @extschema@.tracked_contacts tc WHERE tc.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.untrack_contacts(text) IS 'removes the triggers, tables and views clm.track_contacts created for a tracked source (clm.untrack calls it)';

CREATE OR REPLACE FUNCTION @extschema@.contactable(source_name text, channel text, kind text DEFAULT 'message',
    rule_set text DEFAULT 'default', at date DEFAULT NULL)
    RETURNS TABLE (customer_id text, contactable boolean, reason text, next_allowed date)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    rules jsonb;
    day date := at;
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
    IF day IS NULL THEN
        -- (from customers, which readers may read: clm_fit is the owner's)
        EXECUTE format('SELECT max(as_of) FROM %I.customers', t) INTO day;
    END IF;
    IF day IS NULL OR NOT isfinite(day) THEN
        RAISE EXCEPTION 'clm.contactable: at must be a finite day' USING ERRCODE = '22023';
    END IF;
    RETURN QUERY EXECUTE format($q$
SELECT y.customer_id::pg_catalog.text, (y.b).contactable, (y.b).reason, (y.b).next_allowed
  FROM (SELECT s.customer_id, %2$s AS b
          FROM %1$s s, @extschema@.contact_rule_args($3) a
         WHERE s.customer
        OFFSET 0) y$q$, state, @extschema@.contact_blocks_sql('$2', '$4', '$1'))
        USING day, channel, rules, kind;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contactable(text, text, text, text, date) IS 'for every customer of a tracked source with contacts: whether a message of a kind (message, promotion, winback) may be sent on a channel on a day under a named rule set (clm.contact_rule_set), the reason, and the next day it may (one pass over the customers and their stored contact state)';
