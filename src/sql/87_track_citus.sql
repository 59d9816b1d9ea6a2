-- Tracked sources on Citus (docs/citus.md, "Tracked sources on Citus").
--
-- A source distributed by hash of its customer column is tracked with a
-- co-located queue: clm.track distributes the queue (clm_pending), the
-- profiles and the customers tables by customer id, co-located with the
-- source, so that shard i of each holds the same customers on the same
-- node.  The capture triggers are created with citus.enable_unsafe_triggers,
-- so Citus copies them to every shard of the source; on a shard they write
-- into the co-located shard of the queue, a plain table on the same node, in
-- the writer's own transaction on that node: an event and its queue row
-- commit together (Citus commits a multi-shard write with two-phase commit).
-- Inserts queue their rows; updates and deletes queue the ids of the
-- customers they touched (op = 'UPDATE' or 'DELETE'); TRUNCATE, which
-- Citus runs on the shards without their triggers, is refused (0A000).
--
-- clm.refresh and clm.rebuild then run one statement per shard group on the
-- node that holds it (master_run_on_worker, as the source's owner): in one
-- snapshot it empties the queue shard, merges the queued events of clean
-- customers into the profiles shard, recomputes from the source shard the
-- profiles of the customers an update or delete touched (all of them for a
-- rebuild), drops the profiles of customers left without events, and
-- replaces the customers rows of every changed customer.  The queue rows
-- removed and the events read are the same snapshot's, so an event is
-- merged exactly once: one committed after the snapshot stays queued for the
-- next refresh.  Each shard group commits on its own (a refresh that fails
-- half-way leaves each shard either refreshed or as it was).  The refit,
-- the customers rows after a refit and the population materialised views
-- run on the coordinator over the distributed tables (partial aggregates on
-- the workers).  Profiles count days in the source's time_zone setting
-- explicitly (clm.profile(..., time_zone)), whatever the workers' TimeZone.
--
-- Citus's catalog is read only where Citus is installed (dynamic SQL in
-- clm.track_citus_check, the other functions run only for distributed
-- sources).

-- Whether a source is a distributed table clm can track (true), a plain
-- table (false), or neither (error 0A000, before clm.track creates anything).
CREATE FUNCTION @extschema@.track_citus_check(source regclass, customer_column name, filter text)
    RETURNS boolean LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    method "char";
    repmodel "char";
    distcol text;
    kind text;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT p.partmethod, p.repmodel, pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
               FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid = $1'
        INTO method, repmodel, distcol USING source;
    IF method IS NULL THEN
        RETURN false;
    END IF;
    kind := CASE WHEN method = 'n' AND repmodel = 't' THEN 'reference table'
                 WHEN method = 'n' THEN 'local or single-shard table'
                 WHEN method <> 'h' THEN 'append- or range-distributed table' END;
    IF kind IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track: % is a Citus %', source, kind
            USING ERRCODE = '0A000',
                  DETAIL = 'clm tracks Citus tables distributed by hash of the customer column, whose shards hold whole customers.',
                  HINT = 'Distribute the source by its customer column (create_distributed_table), or build profiles with INSERT ... SELECT into a co-located distributed table (docs/citus.md).';
    END IF;
    IF distcol IS DISTINCT FROM customer_column::text THEN
        RAISE EXCEPTION 'clm.track: % is distributed by column "%", not by the customer column "%"', source, distcol, customer_column
            USING ERRCODE = '0A000',
                  DETAIL = 'A customer''s events must all be on one shard for the profiles to be built and refreshed on the workers.',
                  HINT = 'Distribute the source by its customer column, or track a view over it (every refresh then rebuilds).';
    END IF;
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = source) <> 'r' THEN
        RAISE EXCEPTION 'clm.track: % is a partitioned distributed table', source
            USING ERRCODE = '0A000',
                  HINT = 'Track each partition''s events through a plain distributed table, or a view over the partitioned table (every refresh then rebuilds).';
    END IF;
    IF filter IS NOT NULL THEN
        RAISE EXCEPTION 'clm.track: a filter is not supported on a distributed source (%)', source
            USING ERRCODE = '0A000',
                  HINT = 'Track the distributed table without a filter, or a view with the filter in its WHERE clause (every refresh then rebuilds).';
    END IF;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_check(regclass, name, text) IS 'internal: true if a source is a Citus table distributed by hash of the customer column (clm.track then distributes its tables with it), false for any other table; refuses (0A000) reference, Citus local and single-shard tables, append or range distribution, another distribution column, partitioned distributed tables and a filter, before clm.track creates anything';

-- Whether a tracked source's tables are distributed (its profiles table is).
CREATE FUNCTION @extschema@.track_citus_distributed(target name)
    RETURNS boolean LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    found boolean;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL
       OR pg_catalog.to_regclass(format('%I.profiles', target)) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1 AND partmethod = ''h'')'
        INTO found USING pg_catalog.to_regclass(format('%I.profiles', target));
    RETURN found;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_distributed(name) IS 'internal: true if the profiles table of a tracked source''s schema is a Citus distributed table';

-- Refuses (0A000) contacts and audiences on a distributed tracked source, and
-- a Citus table of messages: their capture and refresh are not built for
-- shards (docs/citus.md, "Tracked sources").
CREATE FUNCTION @extschema@.track_citus_refuse_contacts(r @extschema@.tracked_source, caller text, messages regclass)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    citus_table boolean := false;
BEGIN
    IF @extschema@.track_citus_distributed(r.target_schema) THEN
        RAISE EXCEPTION '%: tracked source "%" is on a Citus distributed table: contacts and audiences are not supported there', caller, r.name
            USING ERRCODE = '0A000', HINT = 'Track the messages and audiences of a source on one node, or read the distributed customers table directly.';
    END IF;
    IF messages IS NOT NULL AND pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)'
            INTO citus_table USING messages;
        IF citus_table THEN
            RAISE EXCEPTION '%: % is a Citus table: contacts are captured from tables on one node only', caller, messages
                USING ERRCODE = '0A000';
        END IF;
    END IF;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_refuse_contacts(@extschema@.tracked_source, text, regclass) IS 'internal: refuses (0A000) clm.track_contacts and clm.track_audiences on a tracked source distributed by Citus, and clm.track_contacts of a Citus table of messages, before they create anything';

-- The co-located shard of the queue for the shard a trigger fires on, as a
-- qualified name; NULL when the trigger fires on the distributed table
-- itself (on the coordinator, where Citus runs statement triggers of
-- TRUNCATE only).
CREATE FUNCTION @extschema@.track_citus_queue_shard(target name, shard_schema name, shard_name name)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    sid bigint := pg_catalog.substring(shard_name, '_([0-9]+)$')::bigint;
    qid bigint;
BEGIN
    SELECT q.shardid INTO qid
      FROM pg_catalog.pg_dist_shard s
      JOIN pg_catalog.pg_class c ON c.oid = s.logicalrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_dist_shard q ON q.logicalrelid = pg_catalog.format('%I.clm_pending', target)::regclass
                                     AND q.shardminvalue = s.shardminvalue
     WHERE s.shardid = sid AND n.nspname = shard_schema AND c.relname || '_' || sid = shard_name;
    IF qid IS NULL THEN
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
                     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = shard_schema AND c.relname = shard_name) THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'clm: no queue shard of tracked schema "%" for %.%', target, shard_schema, shard_name
            USING ERRCODE = '55000',
                  HINT = 'The source and the queue must stay co-located: clm.untrack and clm.track the source again.';
    END IF;
    RETURN pg_catalog.format('%I.%I', target, 'clm_pending_' || qid);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_queue_shard(name, name, name) IS 'internal: the queue shard co-located with the source shard a capture trigger fires on (NULL on the distributed table itself)';

-- Trigger function on the shards of a distributed source: queues the rows an
-- INSERT added (arguments: target schema, customer, time, amount, channel
-- or ''), or the customers an UPDATE or DELETE touched (argument: target
-- schema), into the co-located queue shard.  Runs as the writer and
-- evaluates none of the owner's SQL: column names from the trigger's
-- arguments, the channel through its type's output function (as
-- clm.track_capture).
CREATE FUNCTION @extschema@.track_capture_shard()
    RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    q text := @extschema@.track_citus_queue_shard(TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME);
BEGIN
    IF q IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE pg_catalog.format('INSERT INTO %s (customer_id, occurred_at, amount, channel)'
                                  ' SELECT %I, %I, %I, %s FROM clm_new_rows WHERE %I IS NOT NULL AND %I IS NOT NULL',
                                  q, TG_ARGV[1], TG_ARGV[2], TG_ARGV[3],
                                  CASE WHEN TG_ARGV[4] = '' THEN 'NULL::pg_catalog.text'
                                       ELSE @extschema@.track_channel_sql(TG_RELID, TG_ARGV[4]) END,
                                  TG_ARGV[1], TG_ARGV[2]);
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE pg_catalog.format('INSERT INTO %s (customer_id, op) SELECT DISTINCT c, %L'
                                  ' FROM (SELECT %I AS c FROM clm_old_rows UNION ALL SELECT %I FROM clm_new_rows) s WHERE c IS NOT NULL',
                                  q, TG_OP, TG_ARGV[1], TG_ARGV[1]);
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE pg_catalog.format('INSERT INTO %s (customer_id, op) SELECT DISTINCT %I, %L FROM clm_old_rows WHERE %I IS NOT NULL',
                                  q, TG_ARGV[1], TG_OP, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_capture_shard() IS 'internal: the capture trigger on the shards of a distributed tracked source: queues inserted rows, and the customers of updated or deleted rows, into the co-located queue shard (runs as the writer, evaluates none of the owner''s SQL)';

-- Trigger function refusing TRUNCATE of a distributed tracked source (Citus
-- truncates the shards without firing their triggers, so it would go unseen).
CREATE FUNCTION @extschema@.track_citus_truncate()
    RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION 'clm: TRUNCATE of %.%, a distributed tracked source, is not supported', TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = '0A000',
              HINT = format('DELETE the rows instead (the next clm.refresh sees it), or clm.untrack(%L) first.', TG_ARGV[0]);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_truncate() IS 'internal: BEFORE TRUNCATE trigger of a distributed tracked source: refuses (0A000), as Citus would truncate the shards without their capture triggers';

-- Distributes a new source's profiles, customers and queue tables by
-- customer id, co-located with the source (before any row is in them).
CREATE FUNCTION @extschema@.track_citus_distribute(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    rel text;
BEGIN
    FOREACH rel IN ARRAY ARRAY['clm_pending', 'profiles', 'customers'] LOOP
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => $3)'
            USING pg_catalog.format('%I.%I', r.target_schema, rel)::regclass, 'customer_id', r.source::text;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_distribute(@extschema@.tracked_source) IS 'internal: distributes the queue, profiles and customers tables of a distributed tracked source by customer id, co-located with the source';

-- Creates the triggers of a distributed source (Citus copies them to the shards).
CREATE FUNCTION @extschema@.track_citus_create_triggers(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET citus.enable_unsafe_triggers = on
AS $fn$
DECLARE
    tag text := left(md5(r.name), 12);
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_capture_shard(%L, %L, %L, %L, %L)',
                   'clm_capture_' || tag, r.source, r.target_schema, r.customer_column, r.time_column,
                   r.amount_column, coalesce(r.channel_column, ''));
    -- (transition tables allow one event per trigger, and no column list)
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS clm_old_rows NEW TABLE AS clm_new_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_capture_shard(%L, %L)',
                   'clm_invalidate_' || tag, r.source, r.target_schema, r.customer_column);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS clm_old_rows'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_capture_shard(%L, %L)',
                   'clm_delete_' || tag, r.source, r.target_schema, r.customer_column);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.track_citus_truncate(%L)',
                   'clm_truncate_' || tag, r.source, r.name);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_create_triggers(@extschema@.tracked_source) IS 'internal: creates the capture triggers of a distributed tracked source (insert, update, delete: clm.track_capture_shard on every shard; truncate: refused)';

-- The population parameters of the last refit as a one-row subquery of
-- literals (as_of, model, spend_model, breakpoints, population_gap), for the
-- statements that run on the workers, where the coordinator's clm_fit
-- table does not exist.
CREATE FUNCTION @extschema@.track_citus_fit_sql(r @extschema@.tracked_source)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 3
AS $fn$
DECLARE
    f record;
BEGIN
    EXECUTE format('SELECT as_of, model::text AS m, spend_model::text AS g, breakpoints::text AS b, population_gap::text AS p FROM %I.clm_fit',
                   r.target_schema) INTO f;
    RETURN format('(SELECT %L::date AS as_of, %L::@extschema@.model AS model, %L::@extschema@.model AS spend_model,'
                  ' %L::@extschema@.rfm_breakpoints AS breakpoints, %L::float8 AS population_gap)',
                  f.as_of, f.m, f.g, f.b, f.p);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_fit_sql(@extschema@.tracked_source) IS 'internal: the clm_fit row of a tracked source as a subquery of literals, for statements run on the Citus workers';

-- The customers rows of the (customer_id, profile, changed_at) rows of
-- relation rel, with the fit given as literals (clm.track_customers_sql
-- reads the coordinator's clm_fit table).
CREATE FUNCTION @extschema@.track_citus_customers_sql(r @extschema@.tracked_source, rel text, fit_sql text)
    RETURNS text LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT replace(@extschema@.track_customers_sql(rel, r.target_schema, r.settings),
                   format('CROSS JOIN %I.clm_fit f', r.target_schema), 'CROSS JOIN ' || fit_sql || ' f')
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_customers_sql(@extschema@.tracked_source, text, text) IS 'internal: the customers-row query of a distributed tracked source, the fit inlined as literals';

-- The statement refreshing one shard group of a distributed source (shard
-- names q, s, p, c of the queue, source, profiles and customers), as SQL
-- text: see the head of this file.  rebuild: recompute every customer of the
-- shard from the source; fit_sql NULL: leave the customers rows (the caller
-- recomputes them all).  Returns "events changed net_added".
CREATE FUNCTION @extschema@.track_citus_shard_sql(r @extschema@.tracked_source, rebuild boolean, fit_sql text,
    q text, s text, p text, c text)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cust text := '';
    upd text;
BEGIN
    IF fit_sql IS NOT NULL THEN
        SELECT string_agg(format('%I = excluded.%I', x.col, x.col), ', ')
          INTO upd
          FROM @extschema@.track_customers_columns() x
         WHERE x.col <> 'customer_id';
        cust := format($q$,
cust AS (INSERT INTO %1$s (%2$s) %3$s
         ON CONFLICT (customer_id) DO UPDATE SET %4$s
         RETURNING 1),
custgone AS (DELETE FROM %1$s o WHERE o.customer_id IN (SELECT customer_id FROM dropped) RETURNING 1)$q$,
            c, @extschema@.track_customers_list(), @extschema@.track_citus_customers_sql(r, 'chg', fit_sql), upd);
    END IF;
    RETURN format($q$
WITH gone AS (DELETE FROM %1$s RETURNING *),
moved AS (SELECT * FROM gone WHERE op IS NULL),
marks AS (SELECT DISTINCT customer_id FROM gone WHERE op IS NOT NULL),
ev AS (%5$s),
fresh AS (SELECT e.customer_id, %6$s AS profile FROM ev e
           WHERE NOT %4$L::boolean AND NOT EXISTS (SELECT 1 FROM marks m WHERE m.customer_id = e.customer_id)
           GROUP BY 1),
redo AS (SELECT %8$I AS customer_id, %7$s AS profile FROM %2$s
          WHERE %8$I IS NOT NULL AND %9$I IS NOT NULL
            AND (%4$L::boolean OR %8$I IN (SELECT customer_id FROM marks))
          GROUP BY 1),
dropped AS (DELETE FROM %3$s o
             WHERE (%4$L::boolean OR o.customer_id IN (SELECT customer_id FROM marks))
               AND NOT EXISTS (SELECT 1 FROM redo WHERE redo.customer_id = o.customer_id)
            RETURNING o.customer_id),
merged AS (INSERT INTO %3$s AS o (customer_id, profile, changed_at)
           SELECT customer_id, profile, now() FROM fresh WHERE profile IS NOT NULL
           ON CONFLICT (customer_id) DO UPDATE
              SET profile = @extschema@.profile_merge(o.profile, excluded.profile), changed_at = excluded.changed_at
           RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted),
replaced AS (INSERT INTO %3$s AS o (customer_id, profile, changed_at)
             SELECT customer_id, profile, now() FROM redo WHERE profile IS NOT NULL
             ON CONFLICT (customer_id) DO UPDATE SET profile = excluded.profile, changed_at = excluded.changed_at
             RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted),
chg AS (SELECT * FROM merged UNION ALL SELECT * FROM replaced)%10$s
SELECT concat_ws(' ',
    (SELECT coalesce(sum(@extschema@.event_count(profile)), 0) FROM fresh)
      + (SELECT coalesce(sum(@extschema@.event_count(profile)), 0) FROM redo),
    (SELECT count(*) FROM chg) + (SELECT count(*) FROM dropped),
    (SELECT count(*) FROM chg WHERE inserted) - (SELECT count(*) FROM dropped))$q$,
        q, s, p, rebuild, @extschema@.track_queue_sql(r), @extschema@.track_profile_sql(r, true),
        @extschema@.track_profile_sql(r, false), r.customer_column, r.time_column, cust);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_shard_sql(@extschema@.tracked_source, boolean, text, text, text, text, text) IS 'internal: the statement refreshing (or rebuilding) one shard group of a distributed tracked source on its node, as SQL text';

-- Refreshes (rebuild: rebuilds) every shard group of a distributed source,
-- one statement per group on the node holding it, in parallel, as the
-- current role (the caller switched to the owner).  with_customers: also
-- replace the customers rows of the changed customers (with the fit of the
-- last refit).  Returns events read, customers changed, customers added
-- (net of those dropped).
CREATE FUNCTION @extschema@.track_citus_run(r @extschema@.tracked_source, rebuild boolean, with_customers boolean,
    OUT events bigint, OUT changed bigint, OUT added bigint)
    RETURNS record LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
    fit_sql text := CASE WHEN with_customers THEN @extschema@.track_citus_fit_sql(r) END;
    nodes text[];
    ports int[];
    cmds text[];
    res record;
    parts text[];
BEGIN
    EXECUTE $q$
SELECT array_agg(n.nodename ORDER BY s.shardid), array_agg(n.nodeport ORDER BY s.shardid),
       array_agg(@extschema@.track_citus_shard_sql($1, $2, $3,
                     pg_catalog.shard_name($5, q.shardid, false), pg_catalog.shard_name($4, s.shardid, false),
                     pg_catalog.shard_name($6, p.shardid, false), pg_catalog.shard_name($7, c.shardid, false)) ORDER BY s.shardid)
  FROM pg_catalog.pg_dist_shard s
  JOIN pg_catalog.pg_dist_shard q ON q.logicalrelid = $5 AND q.shardminvalue = s.shardminvalue
  JOIN pg_catalog.pg_dist_shard p ON p.logicalrelid = $6 AND p.shardminvalue = s.shardminvalue
  JOIN pg_catalog.pg_dist_shard c ON c.logicalrelid = $7 AND c.shardminvalue = s.shardminvalue
  JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = s.shardid
  JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
 WHERE s.logicalrelid = $4$q$
        INTO nodes, ports, cmds
        USING r, rebuild, fit_sql, r.source,
              format('%I.clm_pending', t)::regclass, format('%I.profiles', t)::regclass,
              format('%I.customers', t)::regclass;
    events := 0;
    changed := 0;
    added := 0;
    IF cmds IS NULL THEN
        RETURN;
    END IF;
    FOR res IN EXECUTE 'SELECT node_name, node_port, success, result FROM pg_catalog.master_run_on_worker($1, $2, $3, true)'
                USING nodes, ports, cmds LOOP
        IF NOT res.success THEN
            RAISE EXCEPTION 'clm: refreshing a shard of tracked source "%" on %:% failed: %', r.name, res.node_name, res.node_port, res.result
                USING ERRCODE = '58000',
                      DETAIL = 'Each shard group commits on its own: the others may be refreshed already; the next clm.refresh or clm.rebuild completes it.';
        END IF;
        parts := string_to_array(res.result, ' ');
        events := events + parts[1]::bigint;
        changed := changed + parts[2]::bigint;
        added := added + parts[3]::bigint;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_run(@extschema@.tracked_source, boolean, boolean) IS 'internal: refreshes or rebuilds every shard group of a distributed tracked source on the node holding it (one statement each, in parallel, as the current role); returns events read, customers changed and customers added';

-- Recomputes every customers row of a distributed source, one statement per
-- shard group on its node (a co-located INSERT ... SELECT whose query has
-- OFFSET 0 subqueries would go through the coordinator), with the fit of
-- the last refit as literals; each shard group commits on its own.
CREATE FUNCTION @extschema@.track_citus_customers_run(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    t name := r.target_schema;
    fit_sql text := @extschema@.track_citus_fit_sql(r);
    nodes text[];
    ports int[];
    cmds text[];
    res record;
BEGIN
    EXECUTE $q$
SELECT array_agg(n.nodename ORDER BY p.shardid), array_agg(n.nodeport ORDER BY p.shardid),
       array_agg(format('DELETE FROM %1$s; INSERT INTO %1$s (%2$s) %3$s',
                        pg_catalog.shard_name($2, c.shardid, false), @extschema@.track_customers_list(),
                        @extschema@.track_citus_customers_sql($4, pg_catalog.shard_name($1, p.shardid, false), $3))
                 ORDER BY p.shardid)
  FROM pg_catalog.pg_dist_shard p
  JOIN pg_catalog.pg_dist_shard c ON c.logicalrelid = $2 AND c.shardminvalue = p.shardminvalue
  JOIN pg_catalog.pg_dist_placement pl ON pl.shardid = p.shardid
  JOIN pg_catalog.pg_dist_node n ON n.groupid = pl.groupid AND n.noderole = 'primary'
 WHERE p.logicalrelid = $1$q$
        INTO nodes, ports, cmds
        USING format('%I.profiles', t)::regclass, format('%I.customers', t)::regclass, fit_sql, r;
    IF cmds IS NULL THEN
        RETURN;
    END IF;
    FOR res IN EXECUTE 'SELECT node_name, node_port, success, result FROM pg_catalog.master_run_on_worker($1, $2, $3, true)'
                USING nodes, ports, cmds LOOP
        IF NOT res.success THEN
            RAISE EXCEPTION 'clm: the customers rows of tracked source "%" on %:% failed: %', r.name, res.node_name, res.node_port, res.result
                USING ERRCODE = '58000',
                      DETAIL = 'Each shard group commits on its own: the others may be recomputed already; the next refit completes it.';
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_citus_customers_run(@extschema@.tracked_source) IS 'internal: recomputes every customers row of a distributed tracked source, one statement per shard group on the node holding it (in parallel, as the current role)';
