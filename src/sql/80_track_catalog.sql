-- Tracked sources: clm.track registers an event table and builds, in a target
-- schema, a profiles table, the customers table and the population materialised
-- views; clm.refresh keeps them fresh incrementally.
--
-- How new events are found: a statement-level AFTER INSERT trigger on the source
-- (a table or partitioned table) calls clm.track_capture, which copies the new
-- rows (their four columns, or the whole rows when the source has a filter)
-- into the queue table <target>.clm_pending in the writer's own transaction.
-- clm.refresh empties the queue with DELETE ... RETURNING and merges the
-- profiles of those events into the stored profiles in the same statement, so
-- an event is merged exactly once, in the transaction that removes it from the
-- queue: events of transactions that commit during a refresh stay queued for
-- the next one, late events (old occurred_at, inserted now) are ordinary queue
-- rows, and pg_dump keeps source, queue and profiles consistent (one
-- snapshot).  UPDATE, DELETE and TRUNCATE on the source queue a marker row
-- instead (clm.track_invalidate); the next refresh then rebuilds.  A view or
-- foreign table as source has no trigger: every refresh rebuilds.
--
-- Whose rights (docs/tracked-sources-security.md): nothing is SECURITY
-- DEFINER.  The SQL of a tracked source (its filter, the source view, the
-- objects in its target schema) is its owner's, and clm runs it only as the
-- owner: clm.refresh, clm.rebuild and the other functions that touch the
-- target schema switch to the owner (SET LOCAL ROLE) when the caller is not
-- the owner but may SET ROLE to it, and refuse (42501) otherwise; the capture
-- trigger runs no user SQL as the writer (no filter, no cast: the filter is
-- applied at refresh, as the owner).  The catalog is extension-owned; the
-- triggers call extension functions, so DROP EXTENSION clm CASCADE removes
-- them.

CREATE TABLE @extschema@.tracked_source (
    name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 63),
    source regclass NOT NULL,
    customer_column name NOT NULL,
    time_column name NOT NULL,
    amount_column name NOT NULL,
    channel_column name,
    filter text,
    target_schema name NOT NULL UNIQUE,
    created_schema boolean NOT NULL DEFAULT false,
    incremental boolean NOT NULL,
    settings jsonb NOT NULL,
    readers name[] NOT NULL DEFAULT '{}',
    owner name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshes bigint NOT NULL DEFAULT 0,
    last_refresh timestamptz,
    last_refresh_action text,
    last_refresh_seconds double precision,
    last_refresh_events bigint,
    last_refresh_customers bigint,
    last_rebuild timestamptz,
    last_rebuild_seconds double precision,
    last_refit timestamptz,
    last_views_refresh timestamptz,
    customers bigint
);
COMMENT ON TABLE @extschema@.tracked_source IS 'clm catalog: one row per source registered by clm.track (kept by pg_dump; a role sees the rows of the sources it owns, may read or reads the views of, and changes only its own)';
COMMENT ON COLUMN @extschema@.tracked_source.name IS 'the name given to clm.track; the argument of clm.refresh, clm.rebuild and clm.untrack';
COMMENT ON COLUMN @extschema@.tracked_source.source IS 'the event table or view';
COMMENT ON COLUMN @extschema@.tracked_source.customer_column IS 'column of the source holding the customer id';
COMMENT ON COLUMN @extschema@.tracked_source.time_column IS 'column of the source holding the event time (timestamptz, timestamp or date)';
COMMENT ON COLUMN @extschema@.tracked_source.amount_column IS 'column of the source holding the amount (NULL = non-purchase event)';
COMMENT ON COLUMN @extschema@.tracked_source.channel_column IS 'column of the source holding the channel, or NULL';
COMMENT ON COLUMN @extschema@.tracked_source.filter IS 'boolean SQL expression over the source columns selecting the rows to count, or NULL for all rows';
COMMENT ON COLUMN @extschema@.tracked_source.target_schema IS 'schema holding the profiles table, the customers table and the materialised views';
COMMENT ON COLUMN @extschema@.tracked_source.created_schema IS 'true if clm.track created the target schema (clm.untrack then drops it when empty)';
COMMENT ON COLUMN @extschema@.tracked_source.incremental IS 'true if the source has the capture triggers (a table); false for views and foreign tables, which every refresh rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.settings IS 'settings of the views, with every default filled in (see the README, "Tracked sources")';
COMMENT ON COLUMN @extschema@.tracked_source.readers IS 'roles given read access to the views';
COMMENT ON COLUMN @extschema@.tracked_source.owner IS 'role that registered the source';
COMMENT ON COLUMN @extschema@.tracked_source.refreshes IS 'number of completed refreshes and rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh IS 'start of the last completed clm.refresh or clm.rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_action IS 'what the last refresh did: incremental or rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_seconds IS 'duration of the last refresh (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_events IS 'events read by the last refresh';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_customers IS 'customers whose profile the last refresh changed';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild IS 'start of the last full rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild_seconds IS 'duration of the last full rebuild (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refit IS 'when the models, RFM breakpoints and population gap were last computed';
COMMENT ON COLUMN @extschema@.tracked_source.last_views_refresh IS 'when the population materialised views were last refreshed';
COMMENT ON COLUMN @extschema@.tracked_source.customers IS 'customers in the profiles table after the last refresh';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_source', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.tracked_source TO PUBLIC;
ALTER TABLE @extschema@.tracked_source ENABLE ROW LEVEL SECURITY;



CREATE TYPE @extschema@.refresh_result AS (
    name text,
    action text,
    events bigint,
    customers_changed bigint,
    customers bigint,
    refit boolean,
    views_refreshed boolean,
    seconds double precision
);
COMMENT ON TYPE @extschema@.refresh_result IS 'what one clm.refresh or clm.rebuild call did';
COMMENT ON COLUMN @extschema@.refresh_result.name IS 'the tracked source';
COMMENT ON COLUMN @extschema@.refresh_result.action IS 'incremental, rebuild, or skipped (another session was refreshing the source)';
COMMENT ON COLUMN @extschema@.refresh_result.events IS 'events read';
COMMENT ON COLUMN @extschema@.refresh_result.customers_changed IS 'customers whose profile changed';
COMMENT ON COLUMN @extschema@.refresh_result.customers IS 'customers in the profiles table afterwards';
COMMENT ON COLUMN @extschema@.refresh_result.refit IS 'true if the models, RFM breakpoints and population gap were recomputed';
COMMENT ON COLUMN @extschema@.refresh_result.views_refreshed IS 'true if the population materialised views were refreshed';
COMMENT ON COLUMN @extschema@.refresh_result.seconds IS 'duration (seconds)';
