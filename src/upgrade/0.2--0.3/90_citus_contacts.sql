-- clm.track_audiences refuses a source distributed by Citus (0A000): the
-- function as in src/sql/87_contact_audience.sql (the check is
-- clm.track_citus_refuse_contacts, created with 87_track_citus.sql).
CREATE OR REPLACE FUNCTION @extschema@.track_audiences(source_name text)
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
