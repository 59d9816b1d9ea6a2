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
SET force_parallel_mode = on;  -- debug_parallel_query from PostgreSQL 16
SELECT (SELECT clm.mbgnbd_fit(x, t_x, "T") FROM cdnow)::text = (SELECT m::text FROM fits WHERE name = 'mbgnbd') AS mbgnbd_forced_parallel_equals_serial;
RESET force_parallel_mode;
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
