--
-- Tracked sources (clm.track, clm.refresh, clm.rebuild, clm.untrack): every
-- stored value is checked against the clm functions called directly on
-- profiles built here by a plain GROUP BY over the source, with population
-- parameters (RFM breakpoints, population gap, BG/NBD and Gamma-Gamma fits)
-- computed here directly too.  Mismatches are counted (0 expected) rather than
-- thousands of rows printed.  Privileges are in track_privileges.sql.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = notice;
\set VERBOSITY default
CREATE SCHEMA track_test;
SET search_path = track_test, public;

-- tt_err(sql): runs one statement and returns 'ok' or 'SQLSTATE: message'
CREATE FUNCTION tt_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- tt_customers_diff(target, prof, as_of, bp, gap, m, g): compares every column
-- of <target>.customers (but profile_changed_at) with the clm functions called
-- directly on the profiles of table prof (customer_id, p), with the given
-- breakpoints, population gap, purchase model and spend model and the default
-- settings (rfm11, stage rules, 52 weeks, 10% a year, margin 1, half-life 30),
-- rounded as the table keeps them (days and money 2 decimals, probabilities and
-- expected counts 4; CLV from the unrounded expected spend).
-- Returns one row per column with mismatches, and one for missing or extra
-- customers: no row = everything equal.
CREATE FUNCTION tt_customers_diff(target name, prof regclass, as_of date, bp clm.rfm_breakpoints,
                                  gap float8, m clm.model, g clm.model)
RETURNS TABLE (col text, mismatches bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
WITH e AS (
    SELECT d.customer_id, $1 AS as_of, sm.first_purchase, sm.last_purchase, sm.orders, sm.frequency,
           sm.transactions, sm.recency_days, sm.tenure_days, sm.days_since_last_purchase,
           round(sm.monetary, 4) AS monetary,   -- the table keeps 4 decimals
           sm.total_spend, sm.first_seen, sm.last_seen, sm.active_days, sm.days_since_last_seen,
           round(sm.mean_gap_days::numeric, 2)::float8 AS mean_gap_days,
           sc.r_score, sc.f_score, sc.m_score, sc.rfm_code,
           (clm.rfm_segment(sc.r_score, sc.f_score, sc.m_score, 'rfm11')).segment AS rfm_segment,
           st.stage, st.reason AS stage_reason, round(st.expected_gap_days::numeric, 2)::float8 AS expected_gap_days,
           round(clm.p_alive($4, b.x, b.t_x, b.t)::numeric, 4)::float8 AS p_alive,
           round(clm.churn_probability($4, b.x, b.t_x, b.t)::numeric, 4)::float8 AS churn_probability,
           round(clm.expected_purchases($4, 30 / 7.0, b.x, b.t_x, b.t)::numeric, 4)::float8 AS expected_purchases_30d,
           round(clm.expected_purchases($4, 90 / 7.0, b.x, b.t_x, b.t)::numeric, 4)::float8 AS expected_purchases_90d,
           round(clm.expected_purchases($4, 365 / 7.0, b.x, b.t_x, b.t)::numeric, 4)::float8 AS expected_purchases_365d,
           round(es.expected_spend::numeric, 2)::float8 AS expected_spend,
           round(clm.clv($4, 52, power(1.10::float8, 7 / 365.25) - 1, 1.0, es.expected_spend, b.x, b.t_x, b.t)::numeric, 2)::float8 AS clv,
           clm.preferred_channel(d.p, $1, 30) AS preferred_channel,
           -- no contacts: the contact columns are NULL (sql/contact_state.sql)
           NULL::text AS best_channel, NULL::int AS best_hour, NULL::date AS contactable_from
      FROM %s d
           CROSS JOIN LATERAL clm.summary(d.p, $1) sm
           CROSS JOIN LATERAL clm.rfm_score(d.p, $2, $1) sc
           CROSS JOIN LATERAL clm.stage(d.p, $1, $3) st
           CROSS JOIN LATERAL clm.btyd_inputs(d.p, $1, 'week') b
           -- Gamma-Gamma needs a positive mean repeat spend: NULL when refunds ate it
           CROSS JOIN LATERAL (SELECT CASE WHEN b.x = 0 OR b.mean_spend > 0
                                           THEN clm.expected_spend($5, b.x, b.mean_spend::float8) END) es(expected_spend))
SELECT j.key, count(*)
  FROM %I.customers c JOIN e USING (customer_id)
       CROSS JOIN LATERAL jsonb_each(to_jsonb(c)) j
 WHERE j.key <> 'profile_changed_at' AND j.value IS DISTINCT FROM to_jsonb(e) -> j.key
 GROUP BY 1
UNION ALL
SELECT 'missing or extra customers', count(*)
  FROM %I.customers c FULL JOIN e USING (customer_id)
 WHERE c.customer_id IS NULL OR e.customer_id IS NULL
HAVING count(*) > 0
ORDER BY 1$q$, prof, target, target)
    USING as_of, bp, gap, m, g;
END $$;

-- tt_profiles_diff(target, prof): stored profiles that differ from (clm.profile
-- operator <>), are missing from or are extra to the profiles of table prof
CREATE FUNCTION tt_profiles_diff(target name, prof regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I.profiles s FULL JOIN %s d USING (customer_id)
                     WHERE s.customer_id IS NULL OR d.customer_id IS NULL OR NOT s.profile OPERATOR(clm.=) d.p', target, prof)
        INTO n;
    RETURN n;
END $$;

------------------------------------------------------------------------------
-- 1. End to end on generated data: 3000 customers, as_of 2024-12-31, the
-- source's time zone America/New_York while the session is in UTC.
------------------------------------------------------------------------------
CREATE TABLE ev AS SELECT * FROM clm.generate_events(3000, seed => 7, refund_share => 0.05);
SELECT count(*) AS events, count(DISTINCT customer_id) AS customers,
       count(*) FILTER (WHERE amount < 0) AS refunds, min(occurred_at) >= '2023-01-01' AS from_2023
  FROM ev;

SELECT name, action, events, customers_changed, customers, refit, views_refreshed, seconds >= 0 AS timed
  FROM clm.track('track_test.ev', 'customer_id', 'occurred_at', 'amount', 'channel',
                 target_schema => 'trk', name => 'trk',
                 settings => '{"as_of": "2024-12-31", "time_zone": "America/New_York",
                               "population_gap_days": "population"}');
-- the call leaves the session's time zone alone
SHOW TimeZone;

-- the settings stored with every default filled in
SELECT jsonb_pretty(settings) FROM clm.tracked_source WHERE name = 'trk';

-- direct profiles in the source's time zone: a plain GROUP BY over the source
SET TimeZone = 'America/New_York';
CREATE TABLE d_prof AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
-- direct population parameters as of 2024-12-31
CREATE TABLE d_fit AS
  SELECT '2024-12-31'::date AS as_of,
         (SELECT clm.rfm_breakpoints(p, '2024-12-31') FROM d_prof) AS bp,
         (SELECT clm.population_gap(p, '2024-12-31') FROM d_prof) AS gap,
         (SELECT clm.bgnbd_fit(b.x, b.t_x, b.t) FROM d_prof, clm.btyd_inputs(p, '2024-12-31', 'week') b) AS m,
         (SELECT clm.gg_fit(b.x, b.mean_spend::float8) FROM d_prof, clm.btyd_inputs(p, '2024-12-31', 'week') b
           WHERE b.x > 0 AND b.mean_spend > 0) AS g;
RESET TimeZone;
-- the time zone matters: built in UTC, some profiles differ
SELECT count(*) > 0 AS tz_matters
  FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY 1) u
  JOIN d_prof d USING (customer_id) WHERE NOT u.p OPERATOR(clm.=) d.p;

-- stored profiles = the direct ones (clm.profile = operator)
SELECT tt_profiles_diff('trk', 'd_prof') AS profile_mismatches,
       (SELECT count(*) FROM trk.profiles) AS profiles;
-- the fit table = the direct fits, breakpoints and gap (the gap is a mean of
-- per-customer means: summed in another row order it may differ in the last
-- bits, so it is compared to 1e-12 and the stored one is used below)
SELECT f.as_of = d.as_of AS as_of_ok, f.breakpoints::text = d.bp::text AS breakpoints_ok,
       abs(f.population_gap - d.gap) <= 1e-12 * d.gap AS gap_ok, f.model::text = d.m::text AS model_ok,
       f.spend_model::text = d.g::text AS spend_model_ok, f.model_error IS NULL AND f.spend_model_error IS NULL AS no_errors,
       (clm.model_info(f.model)).kind, (clm.model_info(f.spend_model)).kind AS spend_kind,
       (clm.model_info(f.model)).converged AND (clm.model_info(f.spend_model)).converged AS converged
  FROM trk.clm_fit f, d_fit d;

-- every customers column = the functions called directly (no row = no mismatch)
SELECT * FROM tt_customers_diff('trk', 'd_prof', '2024-12-31', (SELECT bp FROM d_fit), (SELECT population_gap FROM trk.clm_fit),
                                (SELECT m FROM d_fit), (SELECT g FROM d_fit));
-- the comparison is not vacuous: the customers table has all its columns,
-- customers in every stage and in many segments, models applied
SELECT count(*) AS customers, count(DISTINCT stage) AS stages, count(DISTINCT rfm_segment) AS segments,
       count(p_alive) AS with_p_alive, count(clv) AS with_clv, count(preferred_channel) AS with_channel,
       count(*) FILTER (WHERE orders IS NULL OR orders = 0) AS prospects,
       bool_and(as_of = '2024-12-31') AS as_of_ok, bool_and(profile_changed_at IS NOT NULL) AS changed_at_set
  FROM trk.customers;
-- repeat buyers whose refunds make the mean repeat spend <= 0: no Gamma-Gamma
-- expected spend, so no CLV (NULL, not an error)
SELECT count(*) AS refunds_ate_spend, count(c.expected_spend) AS with_spend, count(c.clv) AS with_clv,
       count(c.p_alive) AS with_p_alive
  FROM trk.customers c JOIN d_prof d USING (customer_id), clm.btyd_inputs(d.p, '2024-12-31') b
 WHERE b.x > 0 AND b.mean_spend <= 0;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS customers_columns
  FROM pg_attribute WHERE attrelid = 'trk.customers'::regclass AND attnum > 0 AND NOT attisdropped;

-- stage_counts_daily: every day of the 90-day window, every stage, equals a
-- count of clm.stage_name(p, day, gap) over the direct profiles
SELECT count(*) AS rows, min(day), max(day), count(DISTINCT stage) AS stages,
       bool_and(as_of = '2024-12-31') AS as_of_ok
  FROM trk.stage_counts_daily;
WITH d AS (SELECT day::date AS day, clm.stage_name(p, day::date, (SELECT gap FROM d_fit)) AS stage
             FROM d_prof, generate_series(date '2024-12-31' - 89, date '2024-12-31', interval '1 day') day),
direct AS (SELECT day, stage, count(*) AS customers FROM d WHERE stage IS NOT NULL GROUP BY 1, 2)
SELECT count(*) AS stage_count_mismatches
  FROM trk.stage_counts_daily v FULL JOIN direct x USING (day, stage)
 WHERE coalesce(v.customers, -1) <> coalesce(x.customers, 0);
-- the last day, for the reader
SELECT stage, customers FROM trk.stage_counts_daily WHERE day = '2024-12-31' ORDER BY stage;
SELECT stage, count(*) FROM trk.customers GROUP BY stage ORDER BY stage;

-- lifecycle_weekly = clm.lifecycle directly (52 weeks to as_of, any event, Monday weeks),
-- whole weeks only: the week of Monday 2024-12-30 has not ended on as_of and is left out;
-- pulse rounded to 4 decimals
WITH direct AS (
    SELECT l.period_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
           l.dormant_customers, l.active_customers, round(l.pulse::numeric, 4)::float8 AS pulse
      FROM clm.lifecycle_rows((SELECT clm.lifecycle(p, date '2024-12-31' - 7 * 52, '2024-12-31', 'week', 1, false, 1)
                                         FROM d_prof)) l
     WHERE l.period_start + 6 <= date '2024-12-31'),
v AS (SELECT week_start AS period_start, new_customers, returning_customers, resurrecting_customers,
             dormant_customers, active_customers, pulse FROM trk.lifecycle_weekly)
SELECT (SELECT count(*) FROM v) AS weeks,
       (SELECT count(*) FROM (SELECT * FROM v EXCEPT ALL SELECT * FROM direct) a) +
       (SELECT count(*) FROM (SELECT * FROM direct EXCEPT ALL SELECT * FROM v) b) AS lifecycle_mismatches,
       (SELECT sum(active_customers) FROM v) > 0 AS has_active;

-- cohort_retention_monthly = clm.retention directly (24 months of cohorts),
-- retention_rate rounded to 4 decimals
WITH direct AS (
    SELECT r.cohort, r.period_offset, r.cohort_customers, r.retained_customers,
           round(r.retention_rate::numeric, 4)::float8 AS retention_rate, r.revenue
      FROM clm.retention_rows((SELECT clm.retention(p, '2022-12-01', '2024-12-31', 'month') FROM d_prof)) r
     WHERE r.cohort IS NOT NULL),
v AS (SELECT cohort, month_offset, cohort_customers, retained_customers, retention_rate, revenue
        FROM trk.cohort_retention_monthly)
SELECT (SELECT count(*) FROM v) AS cells, (SELECT count(DISTINCT cohort) FROM v) AS cohorts,
       (SELECT count(*) FROM (SELECT * FROM v EXCEPT ALL SELECT * FROM direct) a) +
       (SELECT count(*) FROM (SELECT * FROM direct EXCEPT ALL SELECT * FROM v) b) AS retention_mismatches;

-- stage_transitions = clm.stage_transitions directly, and = the count of
-- (stage on as_of - 90, stage on as_of) pairs
WITH direct AS (
    SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage, r.customers
      FROM clm.transition_rows((SELECT clm.stage_transitions(p, date '2024-12-31' - 90, '2024-12-31',
                                                             gap, 2, 30, 2, 4, 8, false)
                                  FROM d_prof, d_fit)) r),
pairs AS (
    SELECT coalesce(clm.stage_name(p, date '2024-12-31' - 90, gap), 'none') AS from_stage,
           coalesce(clm.stage_name(p, '2024-12-31', gap), 'none') AS to_stage, count(*) AS customers
      FROM d_prof, d_fit GROUP BY 1, 2),
v AS (SELECT from_stage, to_stage, customers FROM trk.stage_transitions)
SELECT (SELECT count(*) FROM v) AS cells, (SELECT sum(customers) FROM v) AS customers,
       (SELECT count(*) FROM (SELECT * FROM v EXCEPT ALL SELECT * FROM direct) a) +
       (SELECT count(*) FROM (SELECT * FROM direct EXCEPT ALL SELECT * FROM v) b) AS aggregate_mismatches,
       (SELECT count(*) FROM v FULL JOIN pairs p USING (from_stage, to_stage)
         WHERE coalesce(v.customers, 0) <> coalesce(p.customers, 0)) AS pair_count_mismatches,
       (SELECT bool_and(from_day = '2024-10-02' AND to_day = '2024-12-31') FROM trk.stage_transitions) AS days_ok;

-- segment_summary = GROUP BY over the customers table (CLV to 2 decimals,
-- churn probability to 4)
CREATE FUNCTION tt_segment_mismatches(target name) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format($q$
WITH direct AS (
    SELECT coalesce(rfm_segment, 'no purchase') AS segment, count(*) AS customers,
           coalesce(sum(total_spend), 0) AS revenue, round(avg(clv)::numeric, 2)::float8 AS mean_clv,
           round(sum(clv)::numeric, 2)::float8 AS total_clv,
           round(avg(churn_probability)::numeric, 4)::float8 AS mean_churn_probability,
           count(*) FILTER (WHERE stage = 'at_risk') AS at_risk_customers
      FROM %1$I.customers GROUP BY 1),
v AS (SELECT segment, customers, revenue, mean_clv, total_clv, mean_churn_probability, at_risk_customers
        FROM %1$I.segment_summary)
SELECT (SELECT count(*) FROM (SELECT * FROM v EXCEPT ALL SELECT * FROM direct) a) +
       (SELECT count(*) FROM (SELECT * FROM direct EXCEPT ALL SELECT * FROM v) b)$q$, target) INTO n;
    RETURN n;
END $$;
SELECT tt_segment_mismatches('trk') AS segment_mismatches,
       (SELECT count(*) FROM trk.segment_summary) AS segments,
       (SELECT sum(customers) FROM trk.segment_summary) AS customers;

-- models = the direct fits; parameters and standard errors shown to 6
-- significant digits (each within 5e-6 of the fit's, relative, and equal to
-- its value printed with 6 significant digits), log-likelihood, AIC and BIC
-- to 2 decimals (AIC and BIC computed here from the fit's log-likelihood)
SELECT v.role, v.kind, v.model::text = (CASE v.role WHEN 'purchase' THEN d.m ELSE d.g END)::text AS model_ok,
       (SELECT bool_and(abs(x.s - x.e) <= 5e-6 * abs(x.e) AND x.s::text = to_char(x.e, '9.99999EEEE')::float8::text)
          FROM unnest(v.parameters || v.std_errors, i.parameters || i.std_errors) x(s, e)) AS parameters_ok,
       cardinality(v.parameters) = cardinality(i.parameters) AND cardinality(v.std_errors) = cardinality(i.std_errors) AS counts_ok,
       v.log_likelihood = round(i.log_likelihood::numeric, 2)::float8
         AND v.aic = round((2 * cardinality(i.parameters) - 2 * i.log_likelihood)::numeric, 2)::float8
         AND v.bic = round((cardinality(i.parameters) * ln(i.n_customers) - 2 * i.log_likelihood)::numeric, 2)::float8 AS fit_figures_ok,
       v.n_customers = CASE v.role WHEN 'purchase' THEN (SELECT count(*) FROM d_prof, clm.btyd_inputs(p, '2024-12-31') b WHERE b.x IS NOT NULL)
                                   ELSE (SELECT count(*) FROM d_prof, clm.btyd_inputs(p, '2024-12-31') b WHERE b.x > 0 AND b.mean_spend > 0) END AS n_ok,
       v.converged, v.error, v.aic IS NOT NULL AS aic_set, v.as_of
  FROM trk.models v, d_fit d, clm.model_info(CASE v.role WHEN 'purchase' THEN d.m ELSE d.g END) i ORDER BY v.role;

-- every materialised view has its unique index (REFRESH ... CONCURRENTLY needs it)
SELECT c.relname, c.relkind, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique) AS unique_indexes
  FROM pg_class c WHERE c.relnamespace = 'trk'::regnamespace AND c.relkind IN ('r', 'm')
 ORDER BY c.relname;

-- the catalog after track: one rebuild
SELECT name, source, target_schema, incremental, customers, refreshes, last_refresh_action,
       last_refresh_events = (SELECT count(*) FROM ev) AS events_ok,
       last_refresh_customers = customers AS changed_ok,
       last_refresh IS NOT NULL AND last_refresh_seconds >= 0 AS refresh_timed,
       last_rebuild = last_refresh AND last_rebuild_seconds >= 0 AS rebuild_timed,
       last_refit IS NOT NULL AND last_views_refresh IS NOT NULL AS refit_views_set,
       customer_column, time_column, amount_column, channel_column, filter, readers
  FROM clm.tracked_sources WHERE name = 'trk';
SELECT clm.pending_events('trk');

------------------------------------------------------------------------------
-- 2. Incremental refresh
------------------------------------------------------------------------------
-- new customers (3001..3200: generated over 2023-2024, so late events too),
-- new events of existing customers (purchases, visits, refunds, after as_of),
-- late events with an old occurred_at, and rows without customer or time
INSERT INTO ev SELECT * FROM clm.generate_events(200, seed => 7, first_customer => 3001, refund_share => 0.05);
INSERT INTO ev (customer_id, occurred_at, event_type, amount, channel)
SELECT i, timestamptz '2024-12-20 12:00+00' + i * interval '1 minute', 'purchase', 10 + i % 7, 'web'
  FROM generate_series(1, 50) i
UNION ALL
SELECT i, timestamptz '2024-12-21 23:30+00', 'visit', NULL, 'app' FROM generate_series(40, 60) i
UNION ALL
SELECT i, timestamptz '2024-12-22 10:00+00', 'refund', -5.5, 'store' FROM generate_series(1, 20) i
UNION ALL
SELECT i, timestamptz '2023-01-05 08:00+00', 'purchase', 99.99, 'email' FROM generate_series(61, 80) i
UNION ALL
SELECT 7, timestamptz '2025-01-15 08:00+00', 'purchase', 12, 'web'
UNION ALL
SELECT NULL, timestamptz '2024-12-01 08:00+00', 'purchase', 1000, 'web'
UNION ALL
SELECT 9, NULL, 'purchase', 1000, 'web';
-- queued: every new row with a customer and a time
SELECT clm.pending_events('trk') AS pending,
       (SELECT count(*) FROM ev WHERE customer_id > 3000) + 50 + 21 + 20 + 20 + 1 AS expected;

SET TimeZone = 'America/New_York';
CREATE TABLE d_prof2 AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev
   WHERE customer_id IS NOT NULL GROUP BY customer_id;
RESET TimeZone;
SELECT count(*) AS customers_changed_expected
  FROM d_prof2 n LEFT JOIN d_prof o USING (customer_id) WHERE o.p IS NULL OR NOT o.p OPERATOR(clm.=) n.p;

-- no refit due (same as_of, refitted less than a day ago), views not due
SELECT name, action, events, customers_changed, customers, refit, views_refreshed
  FROM clm.refresh('trk');
SELECT tt_profiles_diff('trk', 'd_prof2') AS profile_mismatches;
-- the fit is the old one, and every customers row (changed or not) = the
-- functions on the new profiles with the old fit
SELECT f.model::text = d.m::text AS old_model, f.breakpoints::text = d.bp::text AS old_breakpoints,
       abs(f.population_gap - d.gap) <= 1e-12 * d.gap AS old_gap, f.as_of
  FROM trk.clm_fit f, d_fit d;
SELECT * FROM tt_customers_diff('trk', 'd_prof2', '2024-12-31', (SELECT bp FROM d_fit), (SELECT population_gap FROM trk.clm_fit),
                                (SELECT m FROM d_fit), (SELECT g FROM d_fit));
-- only the changed customers' rows were rewritten
SELECT count(*) FILTER (WHERE c.profile_changed_at > t.last_rebuild) AS rows_changed,
       count(*) FILTER (WHERE c.profile_changed_at = t.last_rebuild) AS rows_kept
  FROM trk.customers c, clm.tracked_source t WHERE t.name = 'trk';
SELECT refreshes, last_refresh_action, last_refresh_events, last_refresh_customers, customers,
       customers = (SELECT count(*) FROM trk.profiles) AS customers_ok,
       last_refresh > last_rebuild AS later, last_views_refresh = last_rebuild AS views_not_refreshed
  FROM clm.tracked_sources WHERE name = 'trk';
-- the views still show the state of the rebuild
SELECT sum(customers) AS segment_customers FROM trk.segment_summary;

-- a refresh with nothing pending
SELECT clm.pending_events('trk');
SELECT name, action, events, customers_changed, customers, refit, views_refreshed FROM clm.refresh('trk');

-- refit => true: models, breakpoints and gap from the new profiles, every row
CREATE TABLE d_fit2 AS
  SELECT '2024-12-31'::date AS as_of,
         (SELECT clm.rfm_breakpoints(p, '2024-12-31') FROM d_prof2) AS bp,
         (SELECT clm.population_gap(p, '2024-12-31') FROM d_prof2) AS gap,
         (SELECT clm.bgnbd_fit(b.x, b.t_x, b.t) FROM d_prof2, clm.btyd_inputs(p, '2024-12-31', 'week') b) AS m,
         (SELECT clm.gg_fit(b.x, b.mean_spend::float8) FROM d_prof2, clm.btyd_inputs(p, '2024-12-31', 'week') b
           WHERE b.x > 0 AND b.mean_spend > 0) AS g;
SELECT d.m::text <> o.m::text AS model_moved FROM d_fit2 d, d_fit o;
SELECT name, action, events, customers_changed, customers, refit, views_refreshed FROM clm.refresh('trk', refit => true);
SELECT f.model::text = d.m::text AS model_ok, f.spend_model::text = d.g::text AS spend_ok,
       f.breakpoints::text = d.bp::text AS breakpoints_ok, abs(f.population_gap - d.gap) <= 1e-12 * d.gap AS gap_ok
  FROM trk.clm_fit f, d_fit2 d;
SELECT * FROM tt_customers_diff('trk', 'd_prof2', '2024-12-31', (SELECT bp FROM d_fit2), (SELECT population_gap FROM trk.clm_fit),
                                (SELECT m FROM d_fit2), (SELECT g FROM d_fit2));
-- a refit refreshes the views too
SELECT tt_segment_mismatches('trk') AS segment_mismatches,
       (SELECT sum(customers) FROM trk.segment_summary) AS customers,
       (SELECT bool_and(model::text = (SELECT m::text FROM d_fit2)) FROM trk.models WHERE role = 'purchase') AS models_ok;

-- views => true alone: refreshed without a refit
INSERT INTO ev VALUES (5000, '2024-12-30 15:00+00', 'purchase', 42, 'web');
SELECT name, action, events, customers_changed, customers, refit, views_refreshed FROM clm.refresh('trk', views => true);
SELECT tt_segment_mismatches('trk') AS segment_mismatches,
       (SELECT sum(customers) FROM trk.segment_summary) AS customers,
       (SELECT count(*) FROM trk.stage_counts_daily WHERE day = '2024-12-31' AND stage = 'new'
           AND customers = (SELECT count(*) FROM trk.customers WHERE stage = 'new')) AS new_count_ok;

-- UPDATE of an untracked column: no rebuild
UPDATE ev SET event_type = 'order' WHERE event_type = 'purchase' AND customer_id = 1;
SELECT count(*) AS queued_markers FROM trk.clm_pending;
SELECT name, action, events, customers_changed, customers FROM clm.refresh('trk');

-- DELETE: the next refresh rebuilds (NOTICE) and equals the source
DELETE FROM ev WHERE customer_id BETWEEN 100 AND 199;
SELECT op FROM trk.clm_pending;
SELECT name, action, events, customers_changed, customers, refit, views_refreshed FROM clm.refresh('trk');
SET TimeZone = 'America/New_York';
CREATE TABLE d_prof3 AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev
   WHERE customer_id IS NOT NULL GROUP BY customer_id;
RESET TimeZone;
SELECT tt_profiles_diff('trk', 'd_prof3') AS profile_mismatches, (SELECT count(*) FROM d_prof3) AS customers;
SELECT count(*) AS queue_rows FROM trk.clm_pending;

-- UPDATE of a tracked column (amount): rebuild
UPDATE ev SET amount = amount * 2 WHERE customer_id = 2 AND amount > 0;
SELECT name, action, customers FROM clm.refresh('trk');
SET TimeZone = 'America/New_York';
UPDATE d_prof3 SET p = (SELECT clm.profile(occurred_at, amount, channel) FROM ev WHERE customer_id = 2)
 WHERE customer_id = 2;
RESET TimeZone;
SELECT tt_profiles_diff('trk', 'd_prof3') AS profile_mismatches;
-- the rebuild refitted: customers = the functions with a direct fit of d_prof3
CREATE TABLE d_fit3 AS
  SELECT (SELECT clm.rfm_breakpoints(p, '2024-12-31') FROM d_prof3) AS bp,
         (SELECT clm.population_gap(p, '2024-12-31') FROM d_prof3) AS gap,
         (SELECT clm.bgnbd_fit(b.x, b.t_x, b.t) FROM d_prof3, clm.btyd_inputs(p, '2024-12-31', 'week') b) AS m,
         (SELECT clm.gg_fit(b.x, b.mean_spend::float8) FROM d_prof3, clm.btyd_inputs(p, '2024-12-31', 'week') b
           WHERE b.x > 0 AND b.mean_spend > 0) AS g;
SELECT f.model::text = d.m::text AS model_ok, f.spend_model::text = d.g::text AS spend_ok,
       f.breakpoints::text = d.bp::text AS breakpoints_ok, abs(f.population_gap - d.gap) <= 1e-12 * d.gap AS gap_ok
  FROM trk.clm_fit f, d_fit3 d;
SELECT * FROM tt_customers_diff('trk', 'd_prof3', '2024-12-31', (SELECT bp FROM d_fit3), (SELECT population_gap FROM trk.clm_fit),
                                (SELECT m FROM d_fit3), (SELECT g FROM d_fit3));
SELECT tt_segment_mismatches('trk') AS segment_mismatches;

-- clm.rebuild: the same result
SELECT name, action, events = (SELECT count(*) FROM ev WHERE customer_id IS NOT NULL AND occurred_at IS NOT NULL) AS events_ok,
       customers_changed, customers, refit, views_refreshed
  FROM clm.rebuild('trk');
SELECT tt_profiles_diff('trk', 'd_prof3') AS profile_mismatches;

-- TRUNCATE, then new rows in the same transaction: rebuild from what is there
BEGIN;
TRUNCATE ev;
INSERT INTO ev SELECT * FROM clm.generate_events(500, seed => 8);
COMMIT;
SELECT op, count(*) FROM trk.clm_pending GROUP BY op ORDER BY op;
SELECT name, action, events, customers_changed, customers FROM clm.refresh('trk');
SET TimeZone = 'America/New_York';
CREATE TABLE d_prof4 AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
RESET TimeZone;
SELECT tt_profiles_diff('trk', 'd_prof4') AS profile_mismatches, (SELECT count(*) FROM trk.customers) AS customers;
SELECT refreshes, last_refresh_action, customers FROM clm.tracked_sources WHERE name = 'trk';

------------------------------------------------------------------------------
-- 3. Source variants
------------------------------------------------------------------------------
-- filter: only purchases and refunds of the web and app channels count, at
-- track time and in the trigger
CREATE TABLE fev AS SELECT * FROM clm.generate_events(300, seed => 11);
SELECT name, action, events, customers FROM clm.track('fev', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'trk_f', filter => $$event_type <> 'visit' AND channel IN ('web', 'app')$$,
    settings => '{"as_of": "2024-12-31"}');
SELECT count(*) AS expected_events FROM fev WHERE event_type <> 'visit' AND channel IN ('web', 'app');
CREATE VIEW d_fprof AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM fev
   WHERE customer_id IS NOT NULL AND event_type <> 'visit' AND channel IN ('web', 'app') GROUP BY 1;
SELECT tt_profiles_diff('trk_f', 'd_fprof') AS profile_mismatches;
INSERT INTO fev VALUES (1, '2024-12-01 10:00+00', 'visit', NULL, 'web'),
                       (1, '2024-12-02 10:00+00', 'purchase', 10, 'store'),
                       (1, '2024-12-03 10:00+00', 'purchase', 20, 'web'),
                       (400, '2024-12-04 10:00+00', 'purchase', 30, 'app'),
                       (401, '2024-12-04 10:00+00', 'visit', NULL, 'app');
SELECT clm.pending_events('trk_f') AS pending;
SELECT name, action, events, customers_changed, customers FROM clm.refresh('trk_f');
SELECT tt_profiles_diff('trk_f', 'd_fprof') AS profile_mismatches;
-- with a filter any UPDATE (here of event_type, which the filter reads) rebuilds
UPDATE fev SET event_type = 'visit' WHERE customer_id = 400;
SELECT name, action, customers FROM clm.refresh('trk_f');
SELECT tt_profiles_diff('trk_f', 'd_fprof') AS profile_mismatches;

-- the profile build of clm.track and clm.rebuild runs with work_mem 4MB
-- whatever the session's (the filter sees the setting: with any other value
-- no event passes), and the session's setting is back afterwards
SET work_mem = '1GB';
SELECT name, action, customers, customers = (SELECT count(DISTINCT customer_id) FROM fev) AS all_customers
  FROM clm.track('fev', 'customer_id', 'occurred_at', 'amount', target_schema => 'trk_wm', name => 'trk_wm',
                 filter => $$current_setting('work_mem') = '4MB'$$, settings => '{"as_of": "2024-12-31"}');
SELECT name, action, customers FROM clm.rebuild('trk_wm');
SHOW work_mem;
SELECT clm.untrack('trk_wm');
RESET work_mem;

-- a view as source: no trigger, no queue; every refresh rebuilds
CREATE VIEW vev AS SELECT customer_id AS cust, occurred_at AS at, amount AS amt FROM fev WHERE channel = 'store';
SELECT name, action, events, customers FROM clm.track('vev', 'cust', 'at', 'amt', settings => '{"as_of": "2024-12-31"}');
SELECT incremental, channel_column FROM clm.tracked_source WHERE name = 'clm_vev';
SELECT clm.pending_events('clm_vev') AS pending,
       to_regclass('clm_vev.clm_pending') AS queue, to_regprocedure('clm_vev.clm_capture()') AS capture;
CREATE VIEW d_vprof AS SELECT cust AS customer_id, clm.profile(at, amt) AS p FROM vev WHERE cust IS NOT NULL GROUP BY 1;
SELECT tt_profiles_diff('clm_vev', 'd_vprof') AS profile_mismatches;
INSERT INTO fev VALUES (402, '2024-12-10 10:00+00', 'purchase', 30, 'store');
SELECT name, action, events, customers FROM clm.refresh('clm_vev');
SELECT tt_profiles_diff('clm_vev', 'd_vprof') AS profile_mismatches;
SELECT name, action FROM clm.refresh('clm_vev');
-- channel_column NULL: no channel, no preferred channel
SELECT count(*) AS customers, count(preferred_channel) AS with_channel FROM clm_vev.customers;

-- date time column, integer amounts, text customer ids, no channel
CREATE TABLE dev (cust text, day date, amt integer, note text);
INSERT INTO dev SELECT 'c' || (i % 40), date '2024-01-01' + (i * 7) % 360, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 90 - 3 END, 'n'
  FROM generate_series(1, 400) i;
SELECT name, action, events, customers FROM clm.track('dev', 'cust', 'day', 'amt', name => 'dev',
                                                     settings => '{"as_of": "2024-12-31"}');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'clm_dev.profiles'::regclass AND attname = 'customer_id';
CREATE VIEW d_dprof AS SELECT cust AS customer_id, clm.profile(day, amt::numeric) AS p FROM dev WHERE cust IS NOT NULL GROUP BY 1;
SELECT tt_profiles_diff('clm_dev', 'd_dprof') AS profile_mismatches;
INSERT INTO dev VALUES ('c1', '2024-12-30', 15, NULL), ('new', '2024-06-01', 7, NULL), ('c2', NULL, 5, NULL), (NULL, '2024-06-01', 5, NULL);
SELECT name, action, events, customers_changed, customers FROM clm.refresh('dev');
SELECT tt_profiles_diff('clm_dev', 'd_dprof') AS profile_mismatches;
-- the customers rows of the refreshed customers equal the functions with the stored fit
SELECT * FROM tt_customers_diff('clm_dev', 'd_dprof', '2024-12-31',
    (SELECT breakpoints FROM clm_dev.clm_fit), (SELECT population_gap FROM clm_dev.clm_fit),
    (SELECT model FROM clm_dev.clm_fit), (SELECT spend_model FROM clm_dev.clm_fit));
-- an UPDATE of the untracked column "note" does not rebuild
UPDATE dev SET note = 'x';
SELECT name, action, events FROM clm.refresh('dev');

-- timestamp without time zone, real amounts (exact binary fractions), integer ids
CREATE TABLE tev (cust integer, at timestamp, amt real, ch varchar(10));
INSERT INTO tev SELECT i % 30, timestamp '2024-03-01 22:00' + i * interval '19 hours', (i % 13) * 2.5, CASE WHEN i % 3 = 0 THEN 'web' ELSE 'app' END
  FROM generate_series(1, 600) i;
SELECT name, action, events, customers FROM clm.track('tev', 'cust', 'at', 'amt', 'ch', name => 'tev',
                                                     settings => '{"as_of": "2024-12-31", "time_zone": "Asia/Tokyo"}');
CREATE VIEW d_tprof AS SELECT cust AS customer_id, clm.profile(at, amt::numeric, ch::text) AS p FROM tev GROUP BY 1;
SELECT tt_profiles_diff('clm_tev', 'd_tprof') AS profile_mismatches;
INSERT INTO tev VALUES (1, '2024-12-30 23:59:59', 12.25, 'store'), (99, '2024-12-01 00:00', 1.5, NULL);
SELECT name, action, events, customers_changed, customers FROM clm.refresh('tev');
SELECT tt_profiles_diff('clm_tev', 'd_tprof') AS profile_mismatches;
SELECT * FROM tt_customers_diff('clm_tev', 'd_tprof', '2024-12-31',
    (SELECT breakpoints FROM clm_tev.clm_fit), (SELECT population_gap FROM clm_tev.clm_fit),
    (SELECT model FROM clm_tev.clm_fit), (SELECT spend_model FROM clm_tev.clm_fit));
SELECT preferred_channel, count(*) FROM clm_tev.customers GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------------
-- 4. Hostile identifiers: quotes, spaces, upper case, semicolons everywhere
------------------------------------------------------------------------------
CREATE SCHEMA "Src ""Schema""; DROP";
CREATE TABLE "Src ""Schema""; DROP"."Order ""Log""; DROP" (
    "Customer ""Id""; DROP" text, "When; It" timestamptz, "Amount ""€""" numeric, "Chan Nel" text);
INSERT INTO "Src ""Schema""; DROP"."Order ""Log""; DROP"
SELECT 'Ü' || customer_id, occurred_at, amount, channel FROM clm.generate_events(100, seed => 3);
SELECT name, action, events, customers FROM clm.track('"Src ""Schema""; DROP"."Order ""Log""; DROP"',
    'Customer "Id"; DROP', 'When; It', 'Amount "€"', 'Chan Nel',
    target_schema => 'Target "Schema"; DROP TABLE ev', name => 'My "Name"; DROP TABLE ev',
    filter => $$"Chan Nel" IS DISTINCT FROM 'spam'$$, reader => 'pg_monitor',
    settings => '{"as_of": "2024-12-31"}');
SELECT name, source, target_schema, readers FROM clm.tracked_sources WHERE name LIKE 'My%';
CREATE VIEW d_hprof AS
  SELECT "Customer ""Id""; DROP" AS customer_id, clm.profile("When; It", "Amount ""€""", "Chan Nel") AS p
    FROM "Src ""Schema""; DROP"."Order ""Log""; DROP" GROUP BY 1;
SELECT tt_profiles_diff('Target "Schema"; DROP TABLE ev', 'd_hprof') AS profile_mismatches;
INSERT INTO "Src ""Schema""; DROP"."Order ""Log""; DROP" VALUES
    ('x"; DROP', '2024-12-01 10:00+00', 5, 'web'), ('Ü1', '2024-12-02 10:00+00', 7, 'spam');
SELECT clm.pending_events('My "Name"; DROP TABLE ev') AS pending;
SELECT name, action, events, customers_changed, customers FROM clm.refresh('My "Name"; DROP TABLE ev');
SELECT tt_profiles_diff('Target "Schema"; DROP TABLE ev', 'd_hprof') + 0 AS mismatches_incl_spam,
       (SELECT count(*) FROM "Target ""Schema""; DROP TABLE ev".customers) AS customers;
DELETE FROM "Src ""Schema""; DROP"."Order ""Log""; DROP" WHERE "Chan Nel" = 'spam';
SELECT name, action, customers FROM clm.refresh('My "Name"; DROP TABLE ev', refit => true, views => true);
SELECT tt_profiles_diff('Target "Schema"; DROP TABLE ev', 'd_hprof') AS profile_mismatches;
SELECT name, action, customers FROM clm.rebuild('My "Name"; DROP TABLE ev');
SELECT clm.untrack('My "Name"; DROP TABLE ev');
SELECT count(*) AS left_over FROM pg_namespace WHERE nspname = 'Target "Schema"; DROP TABLE ev';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = '"Src ""Schema""; DROP"."Order ""Log""; DROP"'::regclass;
SELECT count(*) AS rows_kept FROM "Src ""Schema""; DROP"."Order ""Log""; DROP";
-- ev (named in the target schema and name) is still there
SELECT count(*) > 0 AS ev_kept FROM ev;

------------------------------------------------------------------------------
-- 5. Errors, with their SQLSTATE; none leaves anything behind
------------------------------------------------------------------------------
CREATE TABLE eev (cust bigint, at timestamptz, amt numeric, ch text, label text, n integer);
INSERT INTO eev VALUES (1, '2024-06-01', 10, 'web', 'a', 1);
CREATE SEQUENCE eseq;
CREATE INDEX eev_idx ON eev (cust);
CREATE TYPE ecomp AS (cust bigint, at timestamptz, amt numeric);
CREATE SCHEMA busy;
CREATE TABLE busy.customers (x int);
SELECT count(*) AS sources_before FROM clm.tracked_source;
SELECT q, tt_err(q) FROM (VALUES
  -- settings
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"nope": 1}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '[1]')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"model": "weibull"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"as_of": "soon"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"time_zone": "Mars/Olympus"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"rfm_map": "nomap"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"rfm_scores": 12}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"margin": 1.5}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"stage_days": 0}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"clv_horizon_weeks": "many"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"refit_interval": "-1 hour"}')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', settings => '{"half_life_days": 0}')$$),
  -- columns
  ($$SELECT clm.track('eev', NULL, 'at', 'amt')$$),
  ($$SELECT clm.track('eev', 'nope', 'at', 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'nope', 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'nope')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', 'nope')$$),
  ($$SELECT clm.track('eev', 'cust', 'label', 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'n', 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'label')$$),
  -- filter
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', filter => 'true; DROP TABLE eev')$$),
  ($q$SELECT clm.track('eev', 'cust', 'at', 'amt', filter => 'label = $$x$$')$q$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', filter => 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', filter => 'nope > 0')$$),
  -- names and schemas
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', name => 'trk')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', target_schema => 'trk', name => 'other')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', name => '')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', target_schema => 'public')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', target_schema => 'clm')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', target_schema => 'pg_catalog')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', target_schema => 'busy')$$),
  ($$SELECT clm.track('eseq', 'last_value', 'at', 'amt')$$),
  ($$SELECT clm.track('eev_idx', 'cust', 'at', 'amt')$$),
  ($$SELECT clm.track('ecomp', 'cust', 'at', 'amt')$$),
  ($$SELECT clm.track('no_such_table', 'cust', 'at', 'amt')$$),
  ($$SELECT clm.track('eev', 'cust', 'at', 'amt', reader => 'no_such_role')$$),
  -- unknown names
  ($$SELECT clm.refresh('nope')$$),
  ($$SELECT clm.rebuild('nope')$$),
  ($$SELECT clm.untrack('nope')$$),
  ($$SELECT clm.pending_events('nope')$$),
  ($$SELECT clm.grant_reader('nope', 'pg_monitor')$$),
  ($$SELECT clm.revoke_reader('nope', 'pg_monitor')$$),
  ($$SELECT clm.grant_writer('nope', 'pg_monitor')$$),
  ($$SELECT clm.grant_reader('trk', 'no_such_role')$$),
  ($$SELECT clm.grant_writer('trk', 'no_such_role')$$)
) v(q);
-- nothing left behind: no registration, no schema, no trigger, busy.customers intact
SELECT count(*) AS sources_after FROM clm.tracked_source;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'clm\_e%' OR nspname = 'clm_eev';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'eev'::regclass;
SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'busy'::regnamespace ORDER BY 1;
SELECT count(*) AS rows FROM eev;

------------------------------------------------------------------------------
-- 6. untrack removes exactly what track created
------------------------------------------------------------------------------
-- into a pre-existing schema holding a user table: the schema and the table stay
CREATE SCHEMA mine;
CREATE TABLE mine.notes (note text);
INSERT INTO mine.notes VALUES ('keep me');
CREATE TABLE eev_before AS SELECT * FROM eev;
SELECT name, action, events, customers FROM clm.track('eev', 'cust', 'at', 'amt', 'ch', target_schema => 'mine',
                                                     name => 'mine', settings => '{"as_of": "2024-12-31"}');
SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'mine'::regnamespace AND c.relkind IN ('r', 'm', 'v') ORDER BY 1;
SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'mine'::regnamespace ORDER BY 1;
SELECT tgname LIKE 'clm\_capture\_%' OR tgname LIKE 'clm\_invalidate\_%' AS clm_trigger, count(*)
  FROM pg_trigger WHERE tgrelid = 'eev'::regclass GROUP BY 1;
-- a user view on the customers table: untrack fails and changes nothing
CREATE VIEW mine.top AS SELECT customer_id, clv FROM mine.customers;
SELECT tt_err($$SELECT clm.untrack('mine')$$);
SELECT count(*) AS registered FROM clm.tracked_source WHERE name = 'mine';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'eev'::regclass;
SELECT count(*) AS relations FROM pg_class WHERE relnamespace = 'mine'::regnamespace AND relkind IN ('r', 'm', 'v');
INSERT INTO eev VALUES (2, '2024-07-01', 20, 'app', 'b', 2);
INSERT INTO eev_before VALUES (2, '2024-07-01', 20, 'app', 'b', 2);
SELECT name, action, events, customers FROM clm.refresh('mine');
DROP VIEW mine.top;
SELECT clm.untrack('mine');
SELECT c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'mine'::regnamespace ORDER BY 1;
SELECT count(*) AS functions FROM pg_proc WHERE pronamespace = 'mine'::regnamespace;
SELECT * FROM mine.notes;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'eev'::regclass;
SELECT count(*) AS registered FROM clm.tracked_source WHERE name = 'mine';
-- the source data untouched
SELECT (SELECT count(*) FROM (SELECT * FROM eev EXCEPT ALL SELECT * FROM eev_before) a) +
       (SELECT count(*) FROM (SELECT * FROM eev_before EXCEPT ALL SELECT * FROM eev) b) AS source_changes;
-- inserting into the source works without the trigger
INSERT INTO eev VALUES (3, '2024-08-01', 30, 'web', 'c', 3);

-- a created schema is dropped ...
SELECT name FROM clm.track('eev', 'cust', 'at', 'amt', settings => '{"as_of": "2024-12-31"}');
SELECT created_schema FROM clm.tracked_source WHERE name = 'clm_eev';
SELECT clm.untrack('clm_eev');
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'clm_eev';
-- ... unless the user put something in it: kept, with a NOTICE
SELECT name FROM clm.track('eev', 'cust', 'at', 'amt', settings => '{"as_of": "2024-12-31"}');
CREATE TABLE clm_eev.extra (x int);
SELECT clm.untrack('clm_eev');
SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'clm_eev'::regnamespace ORDER BY 1;
DROP SCHEMA clm_eev CASCADE;

------------------------------------------------------------------------------
-- 8. clm.tracked_sources and clm.pending_events over all sources
------------------------------------------------------------------------------
INSERT INTO dev VALUES ('c3', '2024-12-29', 4, NULL), ('c4', '2024-12-29', 4, NULL);
SELECT name, source, target_schema, incremental, customers, refreshes, last_refresh_action,
       last_refresh_events, last_refresh_customers, clm.pending_events(name) AS pending,
       last_refresh >= last_rebuild AND last_refresh_seconds >= 0 AND last_rebuild_seconds >= 0 AS timed,
       last_refit <= last_refresh AND last_views_refresh <= last_refresh AS ordered,
       created_at <= last_rebuild AS created_first, owner = current_user AS mine
  FROM clm.tracked_sources ORDER BY name;

------------------------------------------------------------------------------
-- 9. a customer whose first purchase is on as_of (T = 0) does not stop the
-- fits: the refit skips it (its likelihood is 1), the models are fitted on the
-- others, and it still gets its customers row with p_alive from the model
------------------------------------------------------------------------------
CREATE TABLE track_test.today AS
  SELECT customer_id, occurred_at, amount FROM clm.generate_events(400, seed => 11)
   WHERE occurred_at < '2024-12-31';
INSERT INTO track_test.today VALUES (100000, '2024-12-31 12:00+00', 25.00);
SELECT action, customers FROM clm.track('track_test.today', 'customer_id', 'occurred_at', 'amount',
                                        settings => '{"as_of": "2024-12-31", "time_zone": "UTC"}');
SELECT count(*) FILTER (WHERE b.t = 0) AS t_zero, count(*) FILTER (WHERE b.t > 0) AS t_positive,
       count(*) FILTER (WHERE b.x > 0 AND b.mean_spend > 0) AS repeat_positive_spend
  FROM clm_today.profiles p, clm.btyd_inputs(p.profile, '2024-12-31', 'week') b;
SELECT role, error IS NULL AS fitted, n_customers
  FROM clm_today.models ORDER BY role;
SELECT customer_id, orders, tenure_days, p_alive IS NOT NULL AS has_p_alive
  FROM clm_today.customers WHERE customer_id = 100000;

-- clean up: untrack everything, drop the test schema
SELECT clm.untrack(name) FROM clm.tracked_sources ORDER BY name;
SELECT count(*) AS sources FROM clm.tracked_source;
SELECT nspname FROM pg_namespace WHERE nspname IN ('trk', 'trk_f', 'clm_vev', 'clm_dev', 'clm_tev', 'clm_eev', 'clm_today') ORDER BY 1;
SELECT count(*) AS triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'track_test'::regnamespace AND NOT t.tgisinternal;
SET client_min_messages = warning;
DROP SCHEMA track_test, mine, busy, "Src ""Schema""; DROP" CASCADE;
