-- Audiences of a tracked source: the changes of stage and RFM segment
-- membership as rows, for a sync tool (reverse ETL) to read and acknowledge.
-- clm.track_audiences makes <target>.audience_members (the memberships as of
-- the last refresh) and <target>.audience_changes (customer, audience,
-- entered or exited, at); every clm.refresh and clm.rebuild then compares the
-- customers table with the members and records each difference once, in one
-- statement, under the source's refresh lock (EXCLUSIVE on clm_fit, to the
-- end of the transaction): a second refresh waits for the first to commit and
-- then sees its members, so no change is recorded twice
-- (specs/contact_conc_audience.spec).  Audiences are named 'stage:<stage>' and
-- 'segment:<rfm_segment>'.

-- Records the audience changes of a tracked source since the last call; NULL
-- if it has no audiences.  The caller holds the refresh lock.
CREATE FUNCTION @extschema@.audience_refresh(r @extschema@.tracked_source)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
    n bigint;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.refresh') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_members', t)) IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
WITH cur AS (SELECT customer_id, 'stage:' || stage AS audience FROM %1$I.customers WHERE stage IS NOT NULL
             UNION ALL
             SELECT customer_id, 'segment:' || rfm_segment FROM %1$I.customers WHERE rfm_segment IS NOT NULL),
gone AS (DELETE FROM %1$I.audience_members m
          WHERE NOT EXISTS (SELECT FROM cur WHERE cur.customer_id = m.customer_id AND cur.audience = m.audience)
         RETURNING m.customer_id, m.audience),
fresh AS (INSERT INTO %1$I.audience_members (customer_id, audience, since)
          SELECT c.customer_id, c.audience, now() FROM cur c
           WHERE NOT EXISTS (SELECT FROM %1$I.audience_members m
                              WHERE m.customer_id = c.customer_id AND m.audience = c.audience)
          RETURNING customer_id, audience),
ins AS (INSERT INTO %1$I.audience_changes (customer_id, audience, change, at)
        SELECT customer_id, audience, 'exited', now() FROM gone
        UNION ALL
        SELECT customer_id, audience, 'entered', now() FROM fresh
        RETURNING 1)
SELECT count(*) FROM ins$q$, t) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.audience_refresh(@extschema@.tracked_source) IS 'internal: records the stage and segment membership changes of a tracked source since the last refresh (clm.refresh and clm.rebuild call it under the refresh lock)';

-- Starts recording the audience changes of a tracked source.
CREATE FUNCTION @extschema@.track_audiences(source_name text)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
BEGIN
    IF @extschema@.track_act_as(r, 'clm.track_audiences') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    PERFORM @extschema@.track_lock(r, true);
    PERFORM @extschema@.track_citus_refuse_contacts(r, 'clm.track_audiences', NULL);
    IF to_regclass(format('%I.audience_members', t)) IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track_audiences: tracked source "%" already records its audiences', source_name
            USING ERRCODE = '42710';
    END IF;
    EXECUTE format($q$CREATE TABLE %I.audience_members (
        customer_id %s NOT NULL,
        audience text NOT NULL,
        since timestamptz NOT NULL,
        PRIMARY KEY (customer_id, audience))$q$, t, @extschema@.track_base_type(r.source, r.customer_column));
    EXECUTE format('COMMENT ON TABLE %I.audience_members IS %L', t,
        'the audiences (stage:<stage>, segment:<rfm_segment>) of each customer as of the last refresh (clm.track_audiences)');
    EXECUTE format($q$CREATE TABLE %I.audience_changes (
        change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        customer_id %s NOT NULL,
        audience text NOT NULL,
        change text NOT NULL CHECK (change IN ('entered', 'exited')),
        at timestamptz NOT NULL)$q$, t, @extschema@.track_base_type(r.source, r.customer_column));
    EXECUTE format('COMMENT ON TABLE %I.audience_changes IS %L', t,
        'each change of audience membership, once, in change_id order: read the rows after the last one synced, then clm.acknowledge_audience_changes');
    PERFORM @extschema@.contact_grant_readers(r);
    RETURN @extschema@.audience_refresh(r);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_audiences(text) IS 'starts recording the stage and segment membership changes of a tracked source in <target>.audience_changes (every current membership is recorded as entered); returns the changes recorded';

-- Removes what clm.track_audiences created (clm.untrack calls it).
CREATE FUNCTION @extschema@.untrack_audiences(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
BEGIN
    IF @extschema@.track_act_as(r, 'clm.untrack_audiences') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_members', r.target_schema)) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I.audience_members', r.target_schema);
    END IF;
    IF to_regclass(format('%I.audience_changes', r.target_schema)) IS NOT NULL THEN
        EXECUTE format('DROP TABLE %I.audience_changes', r.target_schema);
    END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.untrack_audiences(text) IS 'stops recording the audience changes of a tracked source and drops its audience tables (clm.untrack calls it)';

-- Deletes the audience changes a sync tool has read, up to a change_id.
CREATE FUNCTION @extschema@.acknowledge_audience_changes(source_name text, through bigint)
    RETURNS bigint LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    n bigint;
BEGIN
    IF through IS NULL THEN
        RAISE EXCEPTION 'clm.acknowledge_audience_changes: through must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF @extschema@.track_act_as(r, 'clm.acknowledge_audience_changes') THEN
        PERFORM pg_catalog.set_config('role', r.owner, true);
    END IF;
    IF to_regclass(format('%I.audience_changes', r.target_schema)) IS NULL THEN
        RAISE EXCEPTION 'clm.acknowledge_audience_changes: tracked source "%" records no audiences', source_name
            USING ERRCODE = '55000', HINT = 'Start with clm.track_audiences.';
    END IF;
    EXECUTE format('WITH d AS (DELETE FROM %I.audience_changes WHERE change_id <= $1 RETURNING 1) SELECT count(*) FROM d',
                   r.target_schema) INTO n USING through;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.acknowledge_audience_changes(text, bigint) IS 'deletes the audience changes of a tracked source up to and including change_id through (those a sync tool has read); returns how many';
