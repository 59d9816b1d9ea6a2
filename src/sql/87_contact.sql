-- Contacts of a tracked source: the messages sent to its customers (customer,
-- sent_at, channel, campaign and optionally delivered, opened, clicked,
-- converted), registered with clm.track_contacts and captured as the events
-- are (src/sql/80_track_catalog.sql): a statement-level AFTER INSERT trigger
-- (clm.contact_capture, C, src/contact_capture.c) queues the new rows in
-- <target>.clm_contacts_pending in the writer's transaction, evaluating none
-- of the owner's SQL; clm.refresh (and clm.rebuild) move them into
-- <target>.contacts with DELETE ... RETURNING in one statement, so a message is
-- stored exactly once; UPDATE, DELETE or TRUNCATE of the contacts table queue
-- a marker (clm.contact_invalidate) after which the refresh reloads the
-- contacts from the table in one statement.  A view or foreign table of
-- contacts is reloaded by every refresh.  Everything that reads the owner's
-- tables runs as the owner (clm.track_act_as), as for the events.

CREATE TABLE @extschema@.tracked_contacts (
    name text PRIMARY KEY,
    source regclass NOT NULL,
    customer_column name NOT NULL,
    time_column name NOT NULL,
    channel_column name,
    campaign_column name,
    delivered_column name,
    opened_column name,
    clicked_column name,
    converted_column name,
    incremental boolean NOT NULL,
    rule_set text NOT NULL DEFAULT 'default'
);
COMMENT ON TABLE @extschema@.tracked_contacts IS 'clm catalog: the contacts table registered with a tracked source by clm.track_contacts (kept by pg_dump; a role sees the rows of the tracked sources it sees and changes those it owns)';
COMMENT ON COLUMN @extschema@.tracked_contacts.name IS 'the tracked source (clm.tracked_source.name)';
COMMENT ON COLUMN @extschema@.tracked_contacts.source IS 'the table (or view) of messages sent';
COMMENT ON COLUMN @extschema@.tracked_contacts.customer_column IS 'column holding the customer id (the base type of the events'' customer column)';
COMMENT ON COLUMN @extschema@.tracked_contacts.time_column IS 'column holding when the message was sent (timestamptz, timestamp or date)';
COMMENT ON COLUMN @extschema@.tracked_contacts.channel_column IS 'column holding the channel, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.campaign_column IS 'column holding the campaign, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.delivered_column IS 'boolean column: the message was delivered, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.opened_column IS 'boolean column: the message was opened, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.clicked_column IS 'boolean column: the message was clicked, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.converted_column IS 'boolean column: the message led to a conversion, or NULL';
COMMENT ON COLUMN @extschema@.tracked_contacts.rule_set IS 'the contact rule set (clm.contact_rule_set) of the customers'' contactable_from and the view contact_now (clm.set_contact_rule_set)';
COMMENT ON COLUMN @extschema@.tracked_contacts.incremental IS 'true if the contacts table has the capture triggers (a table); false for a view or foreign table, which every refresh reloads';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_contacts', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.tracked_contacts TO PUBLIC;
ALTER TABLE @extschema@.tracked_contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tracked_contacts_read ON @extschema@.tracked_contacts FOR SELECT
    USING (EXISTS (SELECT FROM @extschema@.tracked_source ts WHERE ts.name = tracked_contacts.name));
CREATE POLICY tracked_contacts_own ON @extschema@.tracked_contacts
    USING (EXISTS (SELECT FROM @extschema@.tracked_source ts
                    WHERE ts.name = tracked_contacts.name
                      AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')))
    WITH CHECK (EXISTS (SELECT FROM @extschema@.tracked_source ts
                         WHERE ts.name = tracked_contacts.name
                           AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')));

-- Trigger function: queues the messages an INSERT statement added to a tracked
-- contacts table.  Arguments: target schema, customer, time, channel,
-- campaign, delivered, opened, clicked, converted columns ('' for none).
CREATE FUNCTION @extschema@.contact_capture()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_contact_capture' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.contact_capture() IS 'internal: the statement-level AFTER INSERT trigger of a tracked contacts table: queues the new messages for clm.refresh (runs as the writer, evaluates none of the owner''s SQL)';

-- Trigger function: records an UPDATE, DELETE or TRUNCATE of a tracked contacts table.
CREATE FUNCTION @extschema@.contact_invalidate()
    RETURNS trigger
    AS 'MODULE_PATHNAME', 'clm_contact_invalidate' LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.contact_invalidate() IS 'internal: the statement-level trigger recording an UPDATE, DELETE or TRUNCATE of a tracked contacts table, after which clm.refresh reloads the contacts';

-- The SELECT list reading one message of a contacts table (from_queue: of the
-- queue): customer_id, sent_at, sent_day, channel, campaign, delivered,
-- opened, clicked, converted, responded.  Run with TimeZone set to the
-- source's time zone (sent_day is the local day).
CREATE FUNCTION @extschema@.contact_select_sql(c @extschema@.tracked_contacts, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'sent_at' ELSE quote_ident(c.time_column) END;
    resp text[] := '{}';
    cols text[];
    i int;
BEGIN
    cols := ARRAY[c.delivered_column, c.opened_column, c.clicked_column, c.converted_column];
    IF from_queue THEN
        cols := ARRAY[CASE WHEN c.delivered_column IS NULL THEN NULL ELSE 'delivered' END,
                      CASE WHEN c.opened_column IS NULL THEN NULL ELSE 'opened' END,
                      CASE WHEN c.clicked_column IS NULL THEN NULL ELSE 'clicked' END,
                      CASE WHEN c.converted_column IS NULL THEN NULL ELSE 'converted' END];
    END IF;
    -- a response is an open, a click or a conversion (delivery is not one)
    FOR i IN 2..4 LOOP
        IF cols[i] IS NOT NULL THEN
            resp := resp || format('coalesce(%I, false)', cols[i]);
        END IF;
    END LOOP;
    RETURN format('%s, %s::pg_catalog.timestamptz, %s::pg_catalog.timestamptz::pg_catalog.date, %s, %s, %s, %s, %s, %s, %s',
        CASE WHEN from_queue THEN 'customer_id' ELSE quote_ident(c.customer_column) END,
        tcol, tcol,
        CASE WHEN from_queue THEN 'channel' ELSE @extschema@.track_channel_sql(c.source, c.channel_column) END,
        CASE WHEN from_queue THEN 'campaign' ELSE @extschema@.track_channel_sql(c.source, c.campaign_column) END,
        coalesce(quote_ident(cols[1]), 'NULL::pg_catalog.bool'), coalesce(quote_ident(cols[2]), 'NULL::pg_catalog.bool'),
        coalesce(quote_ident(cols[3]), 'NULL::pg_catalog.bool'), coalesce(quote_ident(cols[4]), 'NULL::pg_catalog.bool'),
        CASE WHEN cardinality(resp) = 0 THEN 'NULL::pg_catalog.bool' ELSE array_to_string(resp, ' OR ') END);
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_select_sql(@extschema@.tracked_contacts, boolean) IS 'internal: the SELECT list reading the messages of a tracked contacts table or of its queue';

-- Moves the queued messages of a tracked source into <target>.contacts, or
-- reloads them all (reload, a marker queued by an UPDATE, DELETE or TRUNCATE,
-- or a contacts view), and brings the contact state of the customers
-- concerned up to date (87_contact_state.sql); NULL if the source has no
-- contacts.  The caller holds the refresh lock.
CREATE FUNCTION @extschema@.contact_refresh(r @extschema@.tracked_source, reload boolean)
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

-- The relations of contacts and audiences that readers of a tracked source
-- see (those that exist in its schema).
CREATE FUNCTION @extschema@.contact_reader_relations(t name)
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

-- Gives the readers of a tracked source SELECT on its contact and audience relations.
CREATE FUNCTION @extschema@.contact_grant_readers(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rd name;
    v text;
BEGIN
    FOREACH rd IN ARRAY r.readers LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_roles WHERE rolname = rd);
        FOREACH v IN ARRAY @extschema@.contact_reader_relations(r.target_schema) LOOP
            EXECUTE format('GRANT SELECT ON %I.%I TO %I', r.target_schema, v, rd);
        END LOOP;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_grant_readers(@extschema@.tracked_source) IS 'internal: gives the roles of clm.grant_reader SELECT on the contact and audience relations of a tracked source (clm.track_contacts and clm.track_audiences call it)';

-- Registers a table of messages sent with a tracked source.
CREATE FUNCTION @extschema@.track_contacts(source_name text, contacts regclass,
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

-- Removes what clm.track_contacts created (clm.untrack calls it).
CREATE FUNCTION @extschema@.untrack_contacts(source_name text)
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

-- Creates the contact views of a tracked source.
--
-- contact_pressure: one row per customer and channel with a message on or
-- before the as-of day (clm_fit.as_of, the day of the last refresh).  Windows
-- are of whole days ending on the as-of day: sent_7d counts the messages of
-- the days as_of - 6 .. as_of, and so on.  response_rate_90d is the share of
-- the channel's messages of the last 90 days that drew a response (opened,
-- clicked or converted).  Fatigue: each message's pressure is the number of
-- other messages to the customer, on any channel, in the 30 days up to and
-- including its day; fatigue_90d = minus the Pearson correlation between
-- that pressure and the response (1 or 0) over the channel's messages of the
-- last 90 days, so it is positive when the response falls as the pressure
-- rises (from -1 to 1; NULL when either does not vary).
CREATE FUNCTION @extschema@.contact_create_views(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
BEGIN
    EXECUTE format($q$CREATE VIEW %1$I.contact_pressure AS
SELECT m.customer_id, m.channel, m.as_of,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 7) AS sent_7d,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 30) AS sent_30d,
       pg_catalog.count(*) FILTER (WHERE m.sent_day > m.as_of - 90) AS sent_90d,
       pg_catalog.max(m.sent_day) AS last_contact,
       m.as_of - pg_catalog.max(m.sent_day) AS days_since_contact,
       m.as_of - pg_catalog.max(pg_catalog.max(m.sent_day)) OVER (PARTITION BY m.customer_id) AS days_since_any_contact,
       pg_catalog.count(m.responded) FILTER (WHERE m.sent_day > m.as_of - 90) AS measured_90d,
       pg_catalog.avg(m.responded::int) FILTER (WHERE m.sent_day > m.as_of - 90)::double precision AS response_rate_90d,
       -pg_catalog.corr(m.responded::int, m.pressure_30d) FILTER (WHERE m.sent_day > m.as_of - 90) AS fatigue_90d
  FROM (SELECT c.customer_id, c.channel, c.sent_day, c.responded, f.as_of,
               pg_catalog.count(*) OVER (PARTITION BY c.customer_id ORDER BY c.sent_day
                                         RANGE BETWEEN '29 days'::interval PRECEDING AND CURRENT ROW) - 1 AS pressure_30d
          FROM %1$I.contacts c, %1$I.clm_fit f
         WHERE c.sent_day <= f.as_of) m
 GROUP BY m.customer_id, m.channel, m.as_of$q$, t);
    EXECUTE format('COMMENT ON VIEW %I.contact_pressure IS %L', t,
        'contact pressure per customer and channel as of the last refresh (clm.track_contacts): messages in the last 7, 30 and 90 days, days since the last contact, response rate and fatigue (see docs/contacts.md)');
    -- when and where: response rates per customer by channel, hour of day and
    -- day of week, each shrunk toward the population's rate of that channel,
    -- hour or day with a prior of 5 messages: (r + 5 p) / (n + 5)
    EXECUTE format($q$CREATE VIEW %1$I.contact_response_rates AS
WITH m AS (
    SELECT c.customer_id, c.channel, c.responded,
           pg_catalog.date_part('hour', c.sent_at AT TIME ZONE %2$L)::int AS hour,
           pg_catalog.date_part('isodow', c.sent_at AT TIME ZONE %2$L)::int AS dow
      FROM %1$I.contacts c, %1$I.clm_fit f
     WHERE c.sent_day <= f.as_of AND c.responded IS NOT NULL),
keyed AS (
    SELECT m.customer_id, m.responded, k.dimension, k.value
      FROM m, LATERAL (VALUES ('channel', m.channel), ('hour', m.hour::text), ('dow', m.dow::text)) k(dimension, value)
     WHERE k.value IS NOT NULL),
pop AS (SELECT dimension, value, pg_catalog.avg(responded::int)::double precision AS p FROM keyed GROUP BY 1, 2),
own AS (SELECT customer_id, dimension, value, pg_catalog.count(*) AS n, pg_catalog.sum(responded::int) AS r
          FROM keyed GROUP BY 1, 2, 3),
cust AS (SELECT DISTINCT customer_id FROM m)
SELECT c.customer_id, p.dimension, p.value, coalesce(o.n, 0) AS messages, coalesce(o.r, 0) AS responses,
       p.p AS population_rate,
       (coalesce(o.r, 0) + 5 * p.p) / (coalesce(o.n, 0) + 5) AS response_rate,
       pg_catalog.rank() OVER (PARTITION BY c.customer_id, p.dimension
                               ORDER BY (coalesce(o.r, 0) + 5 * p.p) / (coalesce(o.n, 0) + 5) DESC) AS rank
  FROM cust c CROSS JOIN pop p
  LEFT JOIN own o ON o.customer_id = c.customer_id AND o.dimension = p.dimension AND o.value = p.value$q$,
        t, r.settings->>'time_zone');
    EXECUTE format('COMMENT ON VIEW %I.contact_response_rates IS %L', t,
        'when and where: each customer''s response rate by channel, hour of day (0-23) and ISO day of week (1 = Monday), shrunk toward the population''s rate with a prior of 5 messages, ranked (see docs/contacts.md)');
    EXECUTE format($q$CREATE VIEW %1$I.contact_best AS
SELECT customer_id,
       pg_catalog.min(value) FILTER (WHERE dimension = 'channel' AND rank = 1) AS best_channel,
       pg_catalog.min(value::int) FILTER (WHERE dimension = 'hour' AND rank = 1) AS best_hour,
       pg_catalog.min(value::int) FILTER (WHERE dimension = 'dow' AND rank = 1) AS best_dow
  FROM %1$I.contact_response_rates
 GROUP BY customer_id$q$, t);
    EXECUTE format('COMMENT ON VIEW %I.contact_best IS %L', t,
        'when and where: each customer''s channel, hour of day and ISO day of week with the highest shrunk response rate (ties: the smallest)');
END
$fn$;
COMMENT ON FUNCTION @extschema@.contact_create_views(@extschema@.tracked_source) IS 'internal: creates the views contact_pressure, contact_response_rates and contact_best of a tracked source with contacts';
