-- The columns of a tracked source's customers table, in table order: name,
-- type (NULL: the source's customer id type), the SQL expression over the row
-- x of the query of clm.track_customers_sql ({rfm_map}, {horizon},
-- {weekly_rate}, {margin} and {half_life} stand for settings), and comment.
-- The one catalog the customers table is made, filled and upgraded from: a
-- later version adds a column by appending it here (clm.upgrade_tracked then
-- adds it to the existing customers tables, ALTER TABLE ... ADD COLUMN, at the
-- end, where a fresh table has it too).
CREATE FUNCTION @extschema@.track_customers_columns(OUT col name, OUT type text, OUT expr text, OUT doc text)
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

-- The customers rows of the (customer_id, profile, changed_at) rows of
-- relation rel, as SQL text: the columns of clm.track_customers_columns, in
-- its order and named as there.
CREATE FUNCTION @extschema@.track_customers_sql(rel text, target name, s jsonb)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(format('%s AS %I',
               replace(replace(replace(replace(replace(c.expr,
                   '{rfm_map}', quote_literal(s->>'rfm_map')),
                   '{horizon}', ((s->>'clv_horizon_weeks')::int)::text),
                   '{weekly_rate}', format('(power(1 + %s::float8, 7 / 365.25) - 1)', quote_literal(s->>'annual_discount_rate'))),
                   '{margin}', quote_literal(s->>'margin')),
                   '{half_life}', quote_literal(s->>'half_life_days')),
               c.col), E',\n       ')
      INTO cols
      FROM @extschema@.track_customers_columns() c;
    -- each composite (summary, scores, stage, model inputs) is computed once
    -- per row in the inner query (OFFSET 0 keeps it from being flattened) and
    -- its fields read outside, without a function scan per call
    RETURN format($q$
SELECT %1$s
  FROM (SELECT y.*,
               CASE WHEN (y.b).x = 0 OR (y.b).mean_spend > 0
                    THEN @extschema@.expected_spend(y.spend_model, (y.b).x, (y.b).mean_spend::float8) END AS spend
          FROM (SELECT r.customer_id, r.profile, r.changed_at, f.as_of, f.model, f.spend_model,
                       @extschema@.summary(r.profile, f.as_of) AS sm,
                       @extschema@.rfm_score(r.profile, f.breakpoints, f.as_of) AS sc,
                       @extschema@.stage(r.profile, f.as_of, f.population_gap, %3$s) AS st,
                       @extschema@.btyd_inputs(r.profile, f.as_of, 'week') AS b
                  FROM %2$s r CROSS JOIN %4$I.clm_fit f
                OFFSET 0) y
        OFFSET 0) x
$q$, cols, rel, @extschema@.track_stage_args(s), target);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_sql(text, name, jsonb) IS 'internal: the query computing the customers rows of a tracked source (columns as clm.track_customers_columns)';

-- The column list of a tracked source's customers table, as SQL text.
CREATE FUNCTION @extschema@.track_customers_list()
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT string_agg(quote_ident(c.col), ', ') FROM @extschema@.track_customers_columns() c
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_list() IS 'internal: the column names of a tracked source''s customers table, in order, as SQL text (for INSERT column lists)';

-- The documentation of a tracked source's materialised views: one row per
-- view (col NULL) and per column.  clm.track_create_views comments the views
-- with it, and clm.upgrade_tracked makes a source's views again when their
-- comments differ from it: a version that changes what a view computes says
-- so in its comment here.
CREATE FUNCTION @extschema@.track_views_docs(OUT rel name, OUT col name, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
VALUES
    ('stage_counts_daily', NULL::name, 'customers in each lifecycle stage on each of the last stage_days days (stage as clm.stage, rules of the tracked source)'),
    ('stage_counts_daily', 'day', 'the day (date)'),
    ('stage_counts_daily', 'stage', 'lifecycle stage'),
    ('stage_counts_daily', 'customers', 'customers in that stage at the end of the day (count)'),
    ('stage_counts_daily', 'as_of', 'day of the last refit (date)'),
    ('lifecycle_weekly', NULL, 'new, returning, resurrecting and dormant customers per whole week (clm.lifecycle, any event counts as activity); a week appears once it has ended, on or before as_of, as months do in cohort_retention_monthly'),
    ('lifecycle_weekly', 'week_start', 'first day of the week (date; week_start setting, 1 = Monday)'),
    ('lifecycle_weekly', 'new_customers', 'customers whose first event ever is in the week (count)'),
    ('lifecycle_weekly', 'returning_customers', 'customers active in the week and in the week before (count)'),
    ('lifecycle_weekly', 'resurrecting_customers', 'customers active in the week, inactive the week before and active in some earlier week (count)'),
    ('lifecycle_weekly', 'dormant_customers', 'customers active the week before and inactive in this week (count)'),
    ('lifecycle_weekly', 'active_customers', 'customers with an event in the week (count)'),
    ('lifecycle_weekly', 'pulse', '(new + resurrecting) / dormant (ratio, rounded to 4 decimals; NULL with no dormant customer)'),
    ('lifecycle_weekly', 'as_of', 'day of the last refit (date)'),
    ('cohort_retention_monthly', NULL, 'monthly cohorts by first purchase: customers who bought again in each later month (clm.retention, exact period)'),
    ('cohort_retention_monthly', 'cohort', 'month of the first purchase (date, first of the month)'),
    ('cohort_retention_monthly', 'month_offset', 'months after the cohort month (0 = the cohort month)'),
    ('cohort_retention_monthly', 'cohort_customers', 'customers in the cohort (count)'),
    ('cohort_retention_monthly', 'retained_customers', 'cohort customers with a purchase in that month (count)'),
    ('cohort_retention_monthly', 'retention_rate', 'retained_customers / cohort_customers (0 to 1, rounded to 4 decimals)'),
    ('cohort_retention_monthly', 'revenue', 'net spend of the cohort in that month (currency units)'),
    ('cohort_retention_monthly', 'as_of', 'day of the last refit (date); only months ended by then are shown'),
    ('stage_transitions', NULL, 'customers by stage on from_day and stage on to_day (the last transition_days days); none = no event yet'),
    ('stage_transitions', 'from_stage', 'stage on from_day (none = no event yet)'),
    ('stage_transitions', 'to_stage', 'stage on to_day'),
    ('stage_transitions', 'customers', 'customers making that move (count)'),
    ('stage_transitions', 'from_day', 'start of the window (date)'),
    ('stage_transitions', 'to_day', 'end of the window (date)'),
    ('segment_summary', NULL, 'one row per RFM segment: customers, revenue, CLV and churn risk (from the customers table)'),
    ('segment_summary', 'segment', 'RFM segment (no purchase = customers with activity only)'),
    ('segment_summary', 'customers', 'customers in the segment (count)'),
    ('segment_summary', 'revenue', 'their total net spend to date (currency units)'),
    ('segment_summary', 'mean_clv', 'mean of the customers'' clv (currency units, rounded to 2 decimals)'),
    ('segment_summary', 'total_clv', 'sum of the customers'' clv (currency units, rounded to 2 decimals)'),
    ('segment_summary', 'mean_churn_probability', 'mean of the customers'' churn_probability (0 to 1, rounded to 4 decimals)'),
    ('segment_summary', 'at_risk_customers', 'customers of the segment in the lifecycle stage at_risk (count; the RFM segment "at risk" is another notion)'),
    ('segment_summary', 'as_of', 'day of the customers rows (date)'),
    ('models', NULL, 'the fitted models of the last refit and their fit quality: purchase model (model setting) and Gamma-Gamma spend model'),
    ('models', 'role', 'purchase (BG/NBD, MBG/NBD or Pareto/NBD, time unit week) or spend (Gamma-Gamma)'),
    ('models', 'kind', 'model kind (clm.model_info)'),
    ('models', 'parameter_names', 'names of the parameters'),
    ('models', 'parameters', 'maximum-likelihood estimates (rates per week; rounded to 6 significant digits, the model column keeps them exact)'),
    ('models', 'std_errors', 'standard errors from the Hessian (rounded to 6 significant digits)'),
    ('models', 'log_likelihood', 'log-likelihood at the estimates (rounded to 2 decimals)'),
    ('models', 'n_customers', 'customers in the fit (count)'),
    ('models', 'n_distinct', 'distinct input tuples in the fit (count)'),
    ('models', 'converged', 'true if the optimiser converged'),
    ('models', 'iterations', 'optimiser iterations'),
    ('models', 'message', 'optimiser message'),
    ('models', 'aic', 'Akaike information criterion = 2k - 2 log-likelihood (unrounded log-likelihood; rounded to 2 decimals)'),
    ('models', 'bic', 'Bayesian information criterion = k ln(n) - 2 log-likelihood (unrounded log-likelihood; rounded to 2 decimals)'),
    ('models', 'error', 'why the model could not be fitted (NULL if it was)'),
    ('models', 'fitted_at', 'when the fit ran (timestamptz)'),
    ('models', 'fit_seconds', 'duration of the refit (seconds, rounded to milliseconds)'),
    ('models', 'as_of', 'calibration end of the fit (date)'),
    ('models', 'model', 'the fitted clm.model value, for clm.p_alive, clm.clv and the other predictions')
$fn$;
COMMENT ON FUNCTION @extschema@.track_views_docs() IS 'internal: the comments of a tracked source''s materialised views and their columns (col NULL: the view''s own)';

-- Grants INSERT on the queue to every role that may write to the source.
CREATE FUNCTION @extschema@.track_grant_writers(src regclass, t name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    g oid;
    role_sql text;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.oid = src AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
        UNION
        SELECT relowner FROM pg_class WHERE oid = src
    LOOP
        role_sql := CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END;
        IF g <> 0 AND g::regrole::text = current_user::text THEN
            CONTINUE;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', t, role_sql);
        EXECUTE format('GRANT INSERT ON %I.clm_pending TO %s', t, role_sql);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_grant_writers(regclass, name) IS 'internal: lets every role that writes to the source write to its queue';

-- The SQL expressions reading one event of a tracked source (or its queue).
CREATE FUNCTION @extschema@.track_profile_sql(r @extschema@.tracked_source, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'occurred_at' ELSE quote_ident(r.time_column) END;
    acol text := CASE WHEN from_queue THEN 'amount' ELSE quote_ident(r.amount_column) END;
    ccol text := CASE WHEN from_queue THEN 'channel'
                      WHEN r.channel_column IS NOT NULL THEN @extschema@.track_channel_sql(r.source, r.channel_column) END;
    atype text;
BEGIN
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.amount_column;
    IF atype NOT IN ('numeric', 'double precision') THEN
        acol := acol || '::numeric';
    END IF;
    -- timestamptz: days counted in the source's time_zone, named in the call,
    -- so that the profile does not depend on the TimeZone of the session or
    -- of the server computing it (a Citus worker)
    IF (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.time_column)
       = 'timestamptz'::regtype THEN
        RETURN format('@extschema@.profile(%s, %s, %s, %L)', tcol, acol, coalesce(ccol, 'NULL::text'),
                      r.settings->>'time_zone');
    END IF;
    IF r.channel_column IS NULL THEN
        RETURN format('@extschema@.profile(%s, %s)', tcol, acol);
    END IF;
    RETURN format('@extschema@.profile(%s, %s, %s)', tcol, acol, ccol);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_profile_sql(@extschema@.tracked_source, boolean) IS 'internal: the clm.profile call over a tracked source''s rows or its queue, as SQL text (a timestamptz time column with the time_zone setting named in the call)';

-- Registers a source and builds its schema of views.
CREATE FUNCTION @extschema@.track(source regclass, customer_column name, time_column name,
    amount_column name, channel_column name DEFAULT NULL, target_schema name DEFAULT NULL,
    name text DEFAULT NULL, filter text DEFAULT NULL, reader name DEFAULT NULL,
    settings jsonb DEFAULT '{}')
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s jsonb := @extschema@.track_settings(settings);
    rel pg_class;
    t name;
    made_schema boolean := false;
    src_name text;
    ctype text;
    ttype text;
    atype text;
    col record;
    res @extschema@.refresh_result;
    incremental boolean;
    distributed boolean;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR amount_column IS NULL THEN
        RAISE EXCEPTION 'clm.track: source, customer_column, time_column and amount_column are required'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_class WHERE oid = source;
    IF rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track: % is not a table or view', source USING ERRCODE = '42809';
    END IF;
    distributed := @extschema@.track_citus_check(source, customer_column, filter);  -- 87_track_citus.sql
    incremental := rel.relkind IN ('r', 'p');
    t := coalesce(target_schema, left('clm_' || rel.relname, 63));
    src_name := coalesce(name, t);
    IF src_name = '' OR length(src_name) > 63 THEN
        RAISE EXCEPTION 'clm.track: name must have 1 to 63 characters' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.name = src_name) THEN
        RAISE EXCEPTION 'clm.track: a source named "%" is already tracked', src_name
            USING ERRCODE = '42710', HINT = 'Give another name, or clm.untrack it first.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.target_schema = t) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already holds a tracked source', t
            USING ERRCODE = '42710', HINT = 'Choose another target_schema.';
    END IF;
    IF t = '@extschema@' OR t IN ('pg_catalog', 'information_schema', 'public') OR t LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'clm.track: schema "%" cannot be a target schema', t USING ERRCODE = '42939';
    END IF;
    IF NOT has_table_privilege(source, 'SELECT') THEN
        RAISE EXCEPTION 'clm.track: permission denied to read %', source USING ERRCODE = '42501';
    END IF;

    -- the columns and their types
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = customer_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ctype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, customer_column USING ERRCODE = '42703';
    END IF;
    SELECT a.atttypid::regtype::text INTO ttype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ttype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, time_column USING ERRCODE = '42703';
    ELSIF ttype NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
        RAISE EXCEPTION 'clm.track: time column "%" is %, not timestamptz, timestamp or date', time_column, ttype
            USING ERRCODE = '42804';
    END IF;
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = amount_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF atype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, amount_column USING ERRCODE = '42703';
    ELSIF atype NOT IN ('numeric', 'double precision', 'real', 'smallint', 'integer', 'bigint') THEN
        RAISE EXCEPTION 'clm.track: amount column "%" is %, not a number', amount_column, atype
            USING ERRCODE = '42804';
    END IF;
    IF channel_column IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = channel_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, channel_column USING ERRCODE = '42703';
    END IF;
    IF filter IS NOT NULL THEN
        -- one boolean expression over the source's columns, nothing else
        IF position(';' IN filter) > 0 OR position('$' IN filter) > 0 THEN
            RAISE EXCEPTION 'clm.track: filter must be a single boolean expression (no ";" or "$")'
                USING ERRCODE = '42601';
        END IF;
        EXECUTE format('SELECT 1 FROM %s WHERE (%s) LIMIT 0', source, filter);
    END IF;

    -- the target schema
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t) THEN
        EXECUTE format('CREATE SCHEMA %I', t);
        made_schema := true;
    ELSIF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = t AND c.relname IN ('profiles', 'customers', 'clm_pending', 'clm_fit',
                         'stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                         'stage_transitions', 'segment_summary', 'models')) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already has a table or view named like one clm creates', t
            USING ERRCODE = '42P07',
                  HINT = 'clm creates profiles, customers, clm_pending, clm_fit and the views stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models.';
    END IF;
    IF made_schema THEN
        EXECUTE format('COMMENT ON SCHEMA %I IS %L', t,
                       format('clm views of %s (tracked source %s)', source, src_name));
    END IF;

    INSERT INTO @extschema@.tracked_source (name, source, customer_column, time_column, amount_column,
        channel_column, filter, target_schema, created_schema, incremental, settings)
    VALUES (src_name, source, customer_column, time_column, amount_column, channel_column, filter, t,
            made_schema, incremental, s);

    EXECUTE format($q$CREATE TABLE %I.profiles (
        customer_id %s PRIMARY KEY,
        profile @extschema@.profile NOT NULL,
        changed_at timestamptz NOT NULL)$q$, t, ctype);
    EXECUTE format('COMMENT ON TABLE %I.profiles IS %L', t,
        format('one clm.profile per customer of %s, merged incrementally by clm.refresh(%L)', source, src_name));
    EXECUTE format('COMMENT ON COLUMN %I.profiles.customer_id IS %L', t, 'customer id (as in the source)');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.profile IS %L', t, 'the customer''s history (clm.profile), days in the time zone of the time_zone setting');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.changed_at IS %L', t, 'when the profile last changed (refresh time)');

    EXECUTE format($q$CREATE TABLE %I.clm_fit (
        as_of date NOT NULL,
        fitted_at timestamptz NOT NULL,
        fit_seconds double precision,
        model @extschema@.model,
        model_error text,
        spend_model @extschema@.model,
        spend_model_error text,
        breakpoints @extschema@.rfm_breakpoints,
        population_gap double precision NOT NULL)$q$, t);
    EXECUTE format('COMMENT ON TABLE %I.clm_fit IS %L', t,
        'clm internal: the population parameters of the last refit (one row): models, RFM breakpoints, population gap');

    IF incremental THEN
        -- the queue (source_row: the whole rows of a source with a filter)
        EXECUTE format($q$CREATE TABLE %I.clm_pending (
            customer_id %s,
            occurred_at %s,
            amount %s,
            channel text,
            op text%s)$q$, t, @extschema@.track_base_type(source, customer_column), ttype, atype,
            CASE WHEN filter IS NULL THEN '' ELSE ',
            source_row text' END);
        EXECUTE format('COMMENT ON TABLE %I.clm_pending IS %L', t,
            format('clm internal: events inserted into %s and not yet merged by clm.refresh; op = a change that needs a rebuild', source));
    END IF;

    -- the customers table and the views, created empty and filled by the rebuild
    EXECUTE format('CREATE TABLE %I.customers (%s, PRIMARY KEY (customer_id))', t,
                   (SELECT string_agg(format('%I %s', c.col, coalesce(c.type, ctype)), ', ')
                      FROM @extschema@.track_customers_columns() c));
    IF distributed THEN
        -- queue, profiles and customers co-located with the source (87_track_citus.sql)
        PERFORM @extschema@.track_citus_distribute(@extschema@.track_lookup(src_name));
    END IF;
    IF incremental THEN
        PERFORM @extschema@.track_grant_writers(source, t);
        PERFORM @extschema@.track_create_triggers(@extschema@.track_lookup(src_name));
    END IF;
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', t,
        format('one row per customer of %s: summary, RFM, stage, churn and CLV; kept fresh by clm.refresh(%L) (rows of changed customers are replaced; all rows at each refit)', source, src_name));
    FOR col IN SELECT * FROM @extschema@.track_customers_columns() LOOP
        EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, col.col, col.doc);
    END LOOP;
    -- no index but the primary key: the segment and stage columns have a
    -- dozen values, where a sequential scan wins, and every index costs each
    -- refresh and refit (add your own if a query needs one)

    res := @extschema@.rebuild_internal(src_name, true);
    PERFORM @extschema@.track_create_views(@extschema@.track_lookup(src_name));
    UPDATE @extschema@.tracked_source ts SET last_views_refresh = now() WHERE ts.name = src_name;
    res.views_refreshed := true;
    IF reader IS NOT NULL THEN
        PERFORM @extschema@.grant_reader(src_name, reader);
    END IF;
    res.action := 'track';
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track(regclass, name, name, name, name, name, text, text, name, jsonb) IS 'registers an event table or view and builds its schema of customer views (profiles, customers, stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models)';
