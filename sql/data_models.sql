-- clm models on the reference data (CDNOW sample summary, donations):
-- reproduces the published estimates; parallel plan equals serial result.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;
\getenv clm_data CLM_DATA_DIR
\set cdnow_path :clm_data '/cdnow_customers_summary_with_transactions.csv'
\set donations_path :clm_data '/donations.csv'

CREATE TABLE cdnow (id integer PRIMARY KEY, x float8, t_x float8, "T" float8, zbar float8);
COPY cdnow FROM :'cdnow_path' WITH (FORMAT csv, HEADER true);
CREATE TABLE donations (x float8, t_x float8, n float8, weight float8);
COPY donations FROM :'donations_path' WITH (FORMAT csv, HEADER true);
SELECT count(*) AS customers, sum(x) AS sum_x, count(*) FILTER (WHERE x > 0) AS repeat_buyers FROM cdnow;
SELECT count(*) AS patterns, sum(weight) AS donors FROM donations;

CREATE TABLE fits (name text PRIMARY KEY, m clm.model);
INSERT INTO fits SELECT 'bgnbd', clm.bgnbd_fit(x, t_x, "T") FROM cdnow;
INSERT INTO fits SELECT 'mbgnbd', clm.mbgnbd_fit(x, t_x, "T") FROM cdnow;
INSERT INTO fits SELECT 'paretonbd', clm.paretonbd_fit(x, t_x, "T") FROM cdnow;
INSERT INTO fits SELECT 'gg', clm.gg_fit(x, zbar) FROM cdnow;
INSERT INTO fits SELECT 'bgbb', clm.bgbb_fit(x, t_x, n, weight) FROM donations;

-- Published: BG/NBD r 0.243 alpha 4.414 a 0.793 b 2.426 LL -9582.4 (FHL 2005);
-- Pareto/NBD r 0.553 alpha 10.578 s 0.606 beta 11.669 LL -9595.0 (Fader-Hardie
-- 2005 note; the optimum of the same likelihood is beta = 11.6679, checked with
-- scipy in test/unit/crosscheck_models.py); Gamma-Gamma p 6.25 q 3.74 gamma
-- 15.44 (optimum 15.4478); BG/BB alpha 1.204 beta 0.750 gamma 0.657 delta
-- 2.783 LL -33225.6 (FHS 2010).  MBG/NBD: scipy optimum 0.5248, 6.1830,
-- 0.8914, 1.6140, LL -9582.1327.
SELECT name, i.kind, i.parameter_names,
       (SELECT array_agg(round(v::numeric, 3)) FROM unnest(i.parameters) v) AS parameters,
       round(i.log_likelihood::numeric, 1) AS log_likelihood, i.n_customers, i.converged
FROM fits, clm.model_info(m) i ORDER BY name;
-- standard errors exist and are positive
SELECT name, (SELECT bool_and(s > 0) FROM unnest((clm.model_info(m)).std_errors) s) AS se_ok FROM fits ORDER BY name;

-- FHL 2005: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks
-- (this is CDNOW sample customer 1); P(alive) 0.7266 by scipy (crosscheck_models.py)
SELECT round(clm.expected_purchases(m, 39, x, t_x, "T")::numeric, 3) AS e39,
       round(clm.p_alive(m, x, t_x, "T")::numeric, 4) AS p_alive
FROM fits, cdnow WHERE name = 'bgnbd' AND id = 1;
-- Pareto/NBD for the same customer: scipy P(alive) 0.8691, E 1.4551
SELECT round(clm.expected_purchases(m, 39, x, t_x, "T")::numeric, 4) AS e39,
       round(clm.p_alive(m, x, t_x, "T")::numeric, 4) AS p_alive
FROM fits, cdnow WHERE name = 'paretonbd' AND id = 1;
-- Gamma-Gamma conditional expected spend of customer 1 (x = 2, zbar = 22.35):
-- 6.2488 (15.4478 + 44.7) / (12.4976 + 2.7446) = 24.6586 (lifetimes prints 24.658616)
SELECT round(clm.expected_spend(m, x, zbar)::numeric, 4) FROM fits, cdnow WHERE name = 'gg' AND id = 1;
-- BG/BB: scipy P(alive) for 6 of 6 = 0.9304, E[next 5] = 3.7525
SELECT round(clm.p_alive(m, 6, 6, 6)::numeric, 4) AS p_alive, round(clm.expected_purchases(m, 5, 6, 6, 6)::numeric, 4) AS e5
FROM fits WHERE name = 'bgbb';

-- the stored models survive a text round trip exactly
SELECT name, m::text::clm.model::text = m::text AS round_trip FROM fits ORDER BY name;

-- parallel aggregation: Partial/Finalize Aggregate, same model as serial
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
ALTER TABLE cdnow SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT clm.paretonbd_fit(x, t_x, "T") FROM cdnow;
SELECT (SELECT clm.bgnbd_fit(x, t_x, "T") FROM cdnow)::text = (SELECT m::text FROM fits WHERE name = 'bgnbd') AS bgnbd_parallel_equals_serial;
SELECT (SELECT clm.paretonbd_fit(x, t_x, "T") FROM cdnow)::text = (SELECT m::text FROM fits WHERE name = 'paretonbd') AS paretonbd_parallel_equals_serial;
SELECT (SELECT clm.gg_fit(x, zbar) FROM cdnow)::text = (SELECT m::text FROM fits WHERE name = 'gg') AS gg_parallel_equals_serial;
\i sql/include/parallel.psql
SET :force_parallel = on;
SELECT (SELECT clm.mbgnbd_fit(x, t_x, "T") FROM cdnow)::text = (SELECT m::text FROM fits WHERE name = 'mbgnbd') AS mbgnbd_forced_parallel_equals_serial;
RESET :force_parallel;
-- a partitioned-by-hand merge: union of two halves gives the same model
SELECT (SELECT clm.bgnbd_fit(x, t_x, "T") FROM (SELECT * FROM cdnow WHERE id % 2 = 0 UNION ALL SELECT * FROM cdnow WHERE id % 2 = 1) s)::text
     = (SELECT m::text FROM fits WHERE name = 'bgnbd') AS union_equals;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- churn scores against an observed outcome: churn probability vs "no purchase
-- in the calibration's last 13 weeks" (a within-sample sanity check: AUC > 0.5)
SELECT round(clm.roc_auc(clm.churn_probability(m, x, t_x, "T"), "T" - t_x > 13)::numeric, 3) > 0.5 AS auc_above_chance,
       round(clm.brier_score(clm.churn_probability(m, x, t_x, "T"), "T" - t_x > 13)::numeric, 3) < 0.5 AS brier_below_half
FROM fits, cdnow WHERE name = 'bgnbd' AND x > 0;

-- stress: heavy buyers and long histories give finite numbers
SELECT name,
       bool_and(clm.p_alive(m, x, t_x, "T") BETWEEN 0 AND 1) AS p_alive_ok,
       bool_and(clm.expected_purchases(m, 520, x, t_x, "T") >= 0) AS expected_ok
FROM fits, (VALUES (0, 0, 5000), (500, 4999, 5000), (300, 10, 5000), (1, 0.001, 0.002)) v(x, t_x, "T")
WHERE name IN ('bgnbd', 'mbgnbd', 'paretonbd') GROUP BY name ORDER BY name;

-- calibration / holdout on the raw CDNOW sample: rebuild (x, t_x, T) from the
-- transactions (same-day orders merged, first purchase not counted, weeks,
-- calibration to 1997-09-30), check it equals the published summary, fit on
-- the calibration period and compare with the 39-week holdout to 1998-06-30
\set sample_path :clm_data '/CDNOW_sample.txt'
CREATE TABLE raw_lines (line text);
COPY raw_lines FROM :'sample_path' WITH (FORMAT text);
CREATE TABLE tx AS
SELECT f[2]::integer AS id, to_date(f[3], 'YYYYMMDD') AS d
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM raw_lines) s;
CREATE TABLE calib AS
SELECT id, count(DISTINCT d) FILTER (WHERE d <= '1997-09-30') - 1 AS x,
       (max(d) FILTER (WHERE d <= '1997-09-30') - min(d)) / 7.0 AS t_x,
       ('1997-09-30'::date - min(d)) / 7.0 AS "T",
       count(DISTINCT d) FILTER (WHERE d > '1997-09-30' AND d <= '1998-06-30') AS holdout
FROM tx GROUP BY id;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE c.x <> s.x OR round(c.t_x, 2) <> s.t_x::numeric OR round(c."T", 2) <> s."T"::numeric) AS mismatches
FROM calib c JOIN cdnow s USING (id);
CREATE TABLE scored AS
SELECT c.*, clm.expected_purchases(m, 39, x, t_x, "T") AS predicted,
       clm.churn_probability(m, x, t_x, "T") AS p_churn,
       clm.p_no_purchase(m, 39, x, t_x, "T") AS p_none
FROM calib c, (SELECT clm.bgnbd_fit(x, t_x, "T") AS m FROM calib) f;
-- totals and per-customer errors (MAE, RMSE, correlation)
SELECT sum(holdout) AS actual_total, round(sum(predicted)::numeric, 1) AS predicted_total,
       round(avg(abs(predicted - holdout))::numeric, 4) AS mae,
       round(sqrt(avg((predicted - holdout) ^ 2))::numeric, 4) AS rmse,
       round(corr(predicted, holdout)::numeric, 4) AS correlation
FROM scored;
-- ROC AUC and Brier score of the churn probability against "no holdout
-- purchase", checked against plain SQL: the Mann-Whitney pair count and the
-- mean squared error
SELECT round(clm.roc_auc(p_churn, holdout = 0)::numeric, 10) = round((
         SELECT sum(CASE WHEN a.p_churn > b.p_churn THEN 1.0 WHEN a.p_churn = b.p_churn THEN 0.5 ELSE 0 END) / count(*)
         FROM scored a, scored b WHERE a.holdout = 0 AND b.holdout > 0)::numeric, 10) AS auc_matches_pairs,
       round(clm.brier_score(p_churn, holdout = 0)::numeric, 10)
         = round(avg((p_churn - (holdout = 0)::int) ^ 2)::numeric, 10) AS brier_matches,
       round(clm.roc_auc(p_churn, holdout = 0)::numeric, 4) AS auc,
       round(clm.brier_score(p_churn, holdout = 0)::numeric, 4) AS brier
FROM scored;
-- 1 - P(alive) ranks badly here (BG/NBD gives customers with x = 0 P(alive) = 1
-- although most of them never come back); P(no purchase in the next 39 weeks)
-- is the probability of exactly this outcome and ranks well
SELECT round(clm.roc_auc(p_none, holdout = 0)::numeric, 4) AS auc_p_none,
       round(clm.brier_score(p_none, holdout = 0)::numeric, 4) AS brier_p_none,
       round(avg(p_none)::numeric, 4) AS mean_p_none, round(avg((holdout = 0)::int)::numeric, 4) AS share_without_purchase
FROM scored;

-- the fit aggregates that read profiles directly, clm.bgnbd_fit(profile,
-- calibration_end, unit) and the others, build the same histogram as the
-- (x, t_x, T) form over clm.btyd_inputs, so they give identical models (text
-- form compared, every digit); on CDNOW that is the published BG/NBD fit
CREATE TABLE cdnow_prof AS
SELECT f[2]::int AS id, clm.profile(to_date(f[3], 'YYYYMMDD'), f[5]::numeric) AS p
FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), '\s+') AS f FROM raw_lines) s
GROUP BY 1;
CREATE TABLE cdnow_in AS
SELECT b.* FROM cdnow_prof, clm.btyd_inputs(p, '1997-09-30', 'week') b;
SELECT (SELECT clm.bgnbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text
       = (SELECT clm.bgnbd_fit(x, t_x, t) FROM cdnow_in)::text AS bgnbd_same,
       (SELECT clm.mbgnbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text
       = (SELECT clm.mbgnbd_fit(x, t_x, t) FROM cdnow_in)::text AS mbgnbd_same,
       (SELECT clm.paretonbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text
       = (SELECT clm.paretonbd_fit(x, t_x, t) FROM cdnow_in)::text AS paretonbd_same,
       (SELECT clm.gg_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text
       = (SELECT clm.gg_fit(x, mean_spend::float8) FROM cdnow_in WHERE x > 0 AND mean_spend > 0)::text AS gg_same;
SELECT round(i.parameters[1]::numeric, 3) AS r, round(i.parameters[2]::numeric, 3) AS alpha,
       round(i.parameters[3]::numeric, 3) AS a, round(i.parameters[4]::numeric, 3) AS b,
       round(i.log_likelihood::numeric, 1) AS ll, i.n_customers
FROM (SELECT clm.bgnbd_fit(p, '1997-09-30', 'week') AS m FROM cdnow_prof) f, clm.model_info(f.m) i;
-- parallel plans (Partial and Finalize Aggregate) give the same models
CREATE TABLE prof_fits AS
SELECT clm.bgnbd_fit(p, '1997-09-30', 'week') AS bg, clm.paretonbd_fit(p, '1997-09-30', 'week') AS pn,
       clm.gg_fit(p, '1997-09-30', 'week') AS gg
FROM cdnow_prof;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
ALTER TABLE cdnow_prof SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT clm.bgnbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof;
SELECT (SELECT clm.bgnbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text = bg::text AS bgnbd_parallel_same,
       (SELECT clm.paretonbd_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text = pn::text AS paretonbd_parallel_same,
       (SELECT clm.gg_fit(p, '1997-09-30', 'week') FROM cdnow_prof)::text = gg::text AS gg_parallel_same
FROM prof_fits;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- customers without a purchase by the calibration end, and those whose first
-- purchase is on it (T = 0, likelihood 1), are skipped: the count equals the
-- customers with a purchase before 1997-02-15 in the raw log; NULL inputs
-- leave the state alone; a bad unit or an infinite date is an error
SELECT (clm.model_info(clm.bgnbd_fit(p, '1997-02-15', 'week'))).n_customers,
       (clm.model_info(clm.paretonbd_fit(p, '1997-02-15', 'week'))).n_customers AS pareto_n
FROM cdnow_prof;
SELECT count(DISTINCT id) FILTER (WHERE d < '1997-02-15') AS acquired_before,
       count(DISTINCT id) FILTER (WHERE d = '1997-02-15') AS acquired_that_day
FROM tx WHERE d <= '1997-02-15';
SELECT clm.bgnbd_fit(NULL::clm.profile, '1997-09-30', 'week') IS NULL AS all_null_is_null;
\set VERBOSITY terse
SELECT clm.bgnbd_fit(p, '1997-09-30', 'fortnight') FROM cdnow_prof;
SELECT clm.bgnbd_fit(p, 'infinity', 'week') FROM cdnow_prof;
-- the unit is read on every row, not only the first: a bad one on a later row
-- is an error, and a unit that changes row by row is used as given (days for
-- even ids, weeks for odd ones: the same histogram as btyd_inputs row by row)
SELECT clm.bgnbd_fit(p, '1997-09-30', CASE WHEN id = 2000 THEN 'fortnight' ELSE 'week' END) FROM cdnow_prof;
SELECT (SELECT clm.bgnbd_fit(p, '1997-09-30', CASE WHEN id % 2 = 0 THEN 'day' ELSE 'week' END) FROM cdnow_prof)::text
     = (SELECT clm.bgnbd_fit(b.x, b.t_x, b.t)
          FROM cdnow_prof, clm.btyd_inputs(p, '1997-09-30', CASE WHEN id % 2 = 0 THEN 'day' ELSE 'week' END) b)::text
       AS mixed_units_same;
\set VERBOSITY default
