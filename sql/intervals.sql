-- Prediction intervals (issue 15, part 2): the model format that keeps the
-- correlations of the parameters, intervals per customer and summed over
-- customers, each checked against an independent calculation, bad inputs,
-- parallel = serial, and a seeded simulation of a few replications (the
-- 200-replication study is test/bench/bench_intervals.sh).
\set VERBOSITY sqlstate
SET extra_float_digits = 0;

-- Data: 3000 customers simulated from BG/NBD (r 0.75, alpha 2, a 0.8, b 2.5
-- per week), calibration to 2024-01-01, holdout 366 days.
CREATE TEMP TABLE cal AS
SELECT customer_id, b.x, b.t_x, b.t, (clm.btyd_inputs(p, '2025-01-01', 'week')).x - b.x AS y
FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
      FROM clm.generate_events(3000, seed => 7, visit_ratio => 0, prospect_share => 0)
      GROUP BY customer_id) s,
     clm.btyd_inputs(p, '2024-01-01', 'week') AS b
WHERE b.x IS NOT NULL;
CREATE TEMP TABLE fit AS SELECT clm.bgnbd_fit(x, t_x, t) AS m FROM cal;

-- Format 3: a fit keeps the correlations of its parameters (text keys
-- corr_<a>_<b>, after the standard errors); text and binary round trips
-- are exact; clm.model_correlations is the symmetric matrix with 1 on the
-- diagonal.
SELECT m::text LIKE '% corr_r_alpha=% corr_r_a=% corr_r_b=% corr_alpha_a=% corr_alpha_b=% corr_a_b=% loglik=%' AS has_correlations,
       m::text::clm.model::text = m::text AS text_round_trip
FROM fit;
SELECT c[1][2] = c[2][1] AND c[3][4] = c[4][3] AND c[1][1] = 1 AND c[4][4] = 1 AS symmetric,
       round(c[1][2]::numeric, 1) AS r_alpha, round(c[3][4]::numeric, 1) AS a_b,
       array_length(c, 1) AS rows, array_length(c, 2) AS columns
FROM (SELECT clm.model_correlations(m) AS c FROM fit) s;
CREATE TEMP TABLE models_bin AS
SELECT 'fit' AS name, m FROM fit
UNION ALL SELECT 'made', clm.make_model('paretonbd', ARRAY[0.55, 10.6, 0.61, 11.7])
UNION ALL SELECT 'gg', 'gg p=6 q=4 gamma=15 se_p=1 se_q=0.5 se_gamma=2 corr_p_q=0.1 corr_p_gamma=-0.2 corr_q_gamma=0.9'::clm.model;
COPY models_bin TO '/tmp/clm_intervals_models.bin' WITH (FORMAT binary);
CREATE TEMP TABLE models_bin2 (LIKE models_bin);
COPY models_bin2 FROM '/tmp/clm_intervals_models.bin' WITH (FORMAT binary);
SELECT name, a.m::text = b.m::text AS binary_round_trip
FROM models_bin a JOIN models_bin2 b USING (name) ORDER BY name;
-- a model written by clm 0.1 or 0.2 (format 1: no correlations) reads with
-- unknown correlations; correlations outside [-1, 1] are refused
SELECT clm.model_correlations('bgnbd r=0.243 alpha=4.414 a=0.793 b=2.426 se_r=0.01 se_alpha=0.3 se_a=0.2 se_b=0.7'::clm.model);
SELECT 'bgnbd r=1 alpha=1 a=1 b=1 corr_r_alpha=1.5'::clm.model;
SELECT 'bgnbd r=1 alpha=1 a=1 b=1 corr_alpha_r=0.5'::clm.model;

-- By hand: known parameters (clm.make_model: no standard errors, so the
-- parameters are taken as known and only the count is random).  The CDNOW
-- customer (x, t_x, T) = (2, 30.43, 38.86) over 39 weeks: the interval is
-- the 5% and 95% quantiles of the count's distribution, here from the sums
-- of clm.p_purchases (the closed form of Fader, Hardie and Lee 2005).
CREATE TEMP TABLE cdnow AS
SELECT clm.make_model('bgnbd', ARRAY[0.243, 4.414, 0.793, 2.426]) AS bg,
       clm.make_model('paretonbd', ARRAY[0.5534, 10.5802, 0.6061, 11.6562]) AS pn;
SELECT round((e).estimate::numeric, 4) AS estimate, (e).lower, (e).upper,
       (e).lower = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(bg, k, 39, 2, 30.43, 38.86)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 100) k) s WHERE F >= 0.05) AS lower_by_hand,
       (e).upper = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(bg, k, 39, 2, 30.43, 38.86)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 100) k) s WHERE F >= 0.95) AS upper_by_hand,
       abs((e).estimate - clm.expected_purchases(bg, 39, 2, 30.43, 38.86)) < 1e-12 AS estimate_equal
FROM cdnow, clm.expected_purchases_interval(bg, 39, 2, 30.43, 38.86) AS e;
-- the same for Pareto/NBD and other levels and customers (its pmf by an
-- adaptive quadrature of its own, the intervals' by 32 fixed nodes)
SELECT lv, x, t_x, t,
       (e).lower = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(m, k, 52, x, t_x, t)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 300) k) s WHERE F >= 0.5 - lv / 2) AS lower_by_hand,
       (e).upper = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(m, k, 52, x, t_x, t)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 300) k) s WHERE F >= 0.5 + lv / 2) AS upper_by_hand
FROM (SELECT bg AS m FROM cdnow UNION ALL SELECT pn FROM cdnow) ms,
     (VALUES (0.5), (0.8), (0.99)) AS l(lv),
     (VALUES (0, 0, 30), (1, 3, 40), (7, 35, 36), (20, 50, 52)) AS c(x, t_x, t),
     clm.expected_purchases_interval(m, 52, x, t_x, t, lv) AS e
WHERE (e).lower IS NULL OR (e).upper IS NULL
   OR NOT ((e).lower = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(m, k, 52, x, t_x, t)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 300) k) s WHERE F >= 0.5 - lv / 2)
       AND (e).upper = (SELECT min(k) FROM (SELECT k, sum(clm.p_purchases(m, k, 52, x, t_x, t)) OVER (ORDER BY k) AS F
                                        FROM generate_series(0, 300) k) s WHERE F >= 0.5 + lv / 2));
-- known parameters: P(alive) and CLV have no uncertainty
SELECT (e).estimate = clm.p_alive(bg, 2, 30.43, 38.86) AND (e).lower = (e).estimate AND (e).upper = (e).estimate AS p_alive_exact,
       abs((c).estimate / clm.clv(bg, 52, 0.01, 0.3, 40, 2, 30.43, 38.86) - 1) < 1e-10
         AND (c).lower = (c).estimate AND (c).upper = (c).estimate AS clv_exact
FROM cdnow, clm.p_alive_interval(bg, 2, 30.43, 38.86) AS e,
     clm.clv_interval(bg, 52, 0.01, 0.3, 40, 2, 30.43, 38.86) AS c;
-- one function for both: the estimate of clm.clv_interval is clm.clv to the
-- bit, for BG/NBD and MBG/NBD, for 300 customers of the simulated data and
-- horizons where the periods are long against T (which took clm.clv's
-- quadrature in 0.2) or not
SELECT count(*) AS compared,
       count(*) FILTER (WHERE (clm.clv_interval(f.m, h, 0.01, 1, 1, c.x, c.t_x, c.t)).estimate
                              <> clm.clv(f.m, h, 0.01, 1, 1, c.x, c.t_x, c.t)) AS differ
FROM (SELECT m FROM fit UNION ALL SELECT clm.mbgnbd_fit(x, t_x, t) FROM cal) f,
     (SELECT * FROM cal ORDER BY customer_id LIMIT 300) c, (VALUES (4), (52), (260)) v(h);

-- Fitted parameters: P(alive) and CLV intervals against the delta method,
-- computed here from clm.model_info's standard errors, the correlations
-- and central differences of clm.p_alive / clm.clv in the log-parameters:
-- var = g' S g on the logit (log) scale; the half-widths agree within 2%
-- (the intervals use the sigma points, which agree with the delta method
-- to first order).
CREATE TEMP TABLE grads AS
SELECT i, ((clm.model_info(m)).std_errors)[i] / ((clm.model_info(m)).parameters)[i] AS sl,
       (SELECT ln(pa / (1 - pa)) FROM (SELECT clm.p_alive(clm.make_model('bgnbd', p1), 3, 20, 45) AS pa) s) AS lp_plus,
       (SELECT ln(pa / (1 - pa)) FROM (SELECT clm.p_alive(clm.make_model('bgnbd', p2), 3, 20, 45) AS pa) s) AS lp_minus,
       ln(clm.clv(clm.make_model('bgnbd', p1), 52, 0.01, 1, 1, 3, 20, 45)) AS lc_plus,
       ln(clm.clv(clm.make_model('bgnbd', p2), 52, 0.01, 1, 1, 3, 20, 45)) AS lc_minus
FROM fit, generate_series(1, 4) i,
     LATERAL (SELECT array_agg(CASE WHEN j = i THEN v * exp(1e-5) ELSE v END ORDER BY j) AS p1,
                     array_agg(CASE WHEN j = i THEN v * exp(-1e-5) ELSE v END ORDER BY j) AS p2
              FROM unnest((clm.model_info(m)).parameters) WITH ORDINALITY AS u(v, j)) p;
WITH g AS (SELECT i, sl, (lp_plus - lp_minus) / 2e-5 AS gp, (lc_plus - lc_minus) / 2e-5 AS gc FROM grads),
     v AS (SELECT sum(a.gp * b.gp * a.sl * b.sl * (clm.model_correlations(m))[a.i][b.i]) AS vp,
                  sum(a.gc * b.gc * a.sl * b.sl * (clm.model_correlations(m))[a.i][b.i]) AS vc
           FROM g a, g b, fit)
SELECT abs((ln((e).upper / (1 - (e).upper)) - ln((e).lower / (1 - (e).lower))) / 2
           / (1.6448536269514722 * sqrt(vp)) - 1) < 0.02 AS p_alive_delta,
       abs(ln((c).upper / (c).lower) / 2 / (1.6448536269514722 * sqrt(vc)) - 1) < 0.02 AS clv_delta,
       (e).lower < (e).estimate AND (e).estimate < (e).upper AS p_alive_inside,
       (c).lower < (c).estimate AND (c).estimate < (c).upper AS clv_inside
FROM v, fit, clm.p_alive_interval(m, 3, 20, 45) AS e, clm.clv_interval(m, 52, 0.01, 1, 1, 3, 20, 45) AS c;

-- Gamma-Gamma: the customer's mean spend zeta = p / nu, nu ~ Gamma(px + q,
-- gamma + x zbar).  With p = 2, q = 3, x = 1 the shape is 5, a whole
-- number, so P(zeta <= z) = Q(5, y) = e^-y sum_{k<5} y^k / k! with
-- y = (gamma + zbar) p / z: 5% at the lower bound, 95% at the upper.
SELECT round((e).estimate::numeric, 6) AS estimate,
       abs(exp(-yl) * (1 + yl + yl ^ 2 / 2 + yl ^ 3 / 6 + yl ^ 4 / 24) - 0.05) < 1e-9 AS lower_5pct,
       abs(exp(-yu) * (1 + yu + yu ^ 2 / 2 + yu ^ 3 / 6 + yu ^ 4 / 24) - 0.95) < 1e-9 AS upper_95pct
FROM clm.expected_spend_interval(clm.make_model('gg', ARRAY[2, 3, 10]), 1, 30) AS e,
     LATERAL (SELECT 40 * 2 / (e).lower AS yl, 40 * 2 / (e).upper AS yu) y;
-- fitted Gamma-Gamma: the interval widens with the parameters' uncertainty
SELECT (w).lower < (k).lower AND (w).upper > (k).upper AS wider_than_known
FROM clm.expected_spend_interval('gg p=2 q=3 gamma=10 se_p=0.5 se_q=0.8 se_gamma=3 corr_p_q=0.2 corr_p_gamma=0.1 corr_q_gamma=0.8'::clm.model, 1, 30) AS w,
     clm.expected_spend_interval(clm.make_model('gg', ARRAY[2, 3, 10]), 1, 30) AS k;

-- Sums over customers with known parameters: estimate = the sum of
-- clm.expected_purchases; the counts are independent, so the variance is
-- the sum of the customers' variances (here from clm.p_purchases, k up to
-- 400), the interval the normal one: estimate -+ 1.6449 sd.
CREATE TEMP TABLE pv AS
SELECT customer_id, x, t_x, t,
       (SELECT sum(k * k * clm.p_purchases(bg, k, 366 / 7.0, x, t_x, t)) FROM generate_series(1, 400) k)
         - clm.expected_purchases(bg, 366 / 7.0, x, t_x, t) ^ 2 AS v,
       clm.expected_purchases(bg, 366 / 7.0, x, t_x, t) AS e
FROM cal, (SELECT clm.make_model('bgnbd', ARRAY[0.75, 2, 0.8, 2.5]) AS bg) m
WHERE customer_id <= 300;
SELECT abs((s).estimate / sum_e - 1) < 1e-9 AS estimate,
       abs((s).lower - (sum_e - 1.6448536269514722 * sqrt(sum_v))) < 1e-6 * sum_e AS lower,
       abs((s).upper - (sum_e + 1.6448536269514722 * sqrt(sum_v))) < 1e-6 * sum_e AS upper
FROM (SELECT clm.expected_purchases_total(clm.make_model('bgnbd', ARRAY[0.75, 2, 0.8, 2.5]), 366 / 7.0, x, t_x, t) AS s,
             sum(e) AS sum_e, sum(v) AS sum_v FROM pv) q;
-- the number alive: a sum of Bernoulli(P(alive)), variance sum P (1 - P)
SELECT abs((s).estimate - sp) < 1e-9 AS estimate,
       abs((s).upper - (sp + 1.6448536269514722 * sqrt(sv))) < 1e-6 AS upper
FROM (SELECT clm.alive_customers_total(clm.make_model('bgnbd', ARRAY[0.75, 2, 0.8, 2.5]), x, t_x, t) AS s,
             sum(pa) AS sp, sum(pa * (1 - pa)) AS sv
      FROM (SELECT x, t_x, t, clm.p_alive(clm.make_model('bgnbd', ARRAY[0.75, 2, 0.8, 2.5]), x, t_x, t) AS pa FROM cal) c) q;
-- fitted: the parameters' uncertainty is shared by all customers, so the
-- total's interval is wider than with the parameters taken as known; the
-- CLV total's interval is the parameters' alone (no process variance)
SELECT (f).lower < (k).lower AND (f).upper > (k).upper AS wider_than_known,
       (f).estimate = (k).estimate AS same_estimate
FROM (SELECT clm.expected_purchases_total(m, 366 / 7.0, x, t_x, t) AS f,
             clm.expected_purchases_total(clm.make_model('bgnbd', (clm.model_info(m)).parameters), 366 / 7.0, x, t_x, t) AS k
      FROM cal, fit) q;
SELECT abs((c).estimate / sc - 1) < 1e-9 AS clv_estimate,
       (c).lower < (c).estimate AND (c).estimate < (c).upper AS clv_inside
FROM (SELECT clm.clv_total(m, 52, 0.01, 0.3, 40, x, t_x, t) AS c,
             sum(clm.clv(m, 52, 0.01, 0.3, 40, x, t_x, t)) AS sc
      FROM cal, fit WHERE customer_id <= 200) q;

-- Parallel = serial: the aggregates' partial states combine to the serial
-- state (the same sums in another order: equal to 1e-12)
CREATE TEMP TABLE many AS SELECT c.* FROM cal c, generate_series(1, 5);
ANALYZE many;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT clm.expected_purchases_total(m, 366 / 7.0, x, t_x, t) AS p,
       clm.alive_customers_total(m, x, t_x, t, 0.8) AS a,
       clm.clv_total(m, 52, 0.01, 0.3, 40, x, t_x, t) AS c
FROM many, fit;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- (a temporary table is never scanned in parallel: a plain one here)
CREATE TABLE intervals_many AS SELECT * FROM many;
CREATE TABLE intervals_fit AS SELECT * FROM fit;
ANALYZE intervals_many;
EXPLAIN (COSTS OFF)
SELECT clm.expected_purchases_total(m, 366 / 7.0, x, t_x, t) FROM intervals_many, intervals_fit;
SELECT abs((q.p).estimate / (s.p).estimate - 1) < 1e-12 AND abs((q.p).upper / (s.p).upper - 1) < 1e-12 AS purchases,
       abs((q.a).lower / (s.a).lower - 1) < 1e-12 AS alive,
       abs((q.c).upper / (s.c).upper - 1) < 1e-12 AS clv
FROM serial s,
     (SELECT clm.expected_purchases_total(m, 366 / 7.0, x, t_x, t) AS p,
             clm.alive_customers_total(m, x, t_x, t, 0.8) AS a,
             clm.clv_total(m, 52, 0.01, 0.3, 40, x, t_x, t) AS c
      FROM intervals_many, intervals_fit) q;
DROP TABLE intervals_many, intervals_fit;
RESET max_parallel_workers_per_gather; RESET parallel_setup_cost; RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- Bad input: a clear SQLSTATE, or NULL
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 52, 1, 3, 40, 0);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 52, 1, 3, 40, 1);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 52, 1, 3, 40, 'NaN');
SELECT * FROM clm.p_alive_interval((SELECT m FROM fit), 1, 3, 40, -0.5);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 52, 1, 3, 40, NULL);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 52, 1, 50, 40);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), -1, 1, 3, 40);
SELECT * FROM clm.expected_purchases_interval((SELECT m FROM fit), 'Infinity', 1, 3, 40);
SELECT * FROM clm.expected_purchases_interval(clm.make_model('sbg', ARRAY[1, 2]), 52, 1, 3, 40);
SELECT * FROM clm.expected_purchases_interval(clm.make_model('bgbb', ARRAY[1, 2, 3, 4]), 5, 1, 3, 6);
SELECT * FROM clm.expected_spend_interval((SELECT m FROM fit), 1, 30);
SELECT * FROM clm.expected_spend_interval(clm.make_model('gg', ARRAY[2, 3, 10]), 1, 0);
SELECT * FROM clm.clv_interval((SELECT m FROM fit), -1, 0.01, 1, 1, 1, 3, 40);
-- a model of 0.2 (standard errors without correlations): no interval
SELECT * FROM clm.p_alive_interval('bgnbd r=0.243 alpha=4.414 a=0.793 b=2.426 se_r=0.01 se_alpha=0.3 se_a=0.2 se_b=0.7'::clm.model, 1, 3, 40);
\set VERBOSITY default
SELECT * FROM clm.expected_purchases_interval('bgnbd r=0.243 alpha=4.414 a=0.793 b=2.426 se_r=0.01 se_alpha=0.3 se_a=0.2 se_b=0.7'::clm.model, 52, 1, 3, 40);
\set VERBOSITY sqlstate
-- a model with covariates: not supported (22023, as other predictions); correlations and
-- covariates do not go together in one model (22P02)
SELECT * FROM clm.p_alive_interval('bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web trans.web=0.5 life.web=0'::clm.model, 1, 3, 40);
SELECT 'bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web trans.web=0.5 life.web=0 corr_r_alpha=0.5'::clm.model;
-- a huge expected count: more than a million values of its distribution
SELECT * FROM clm.expected_purchases_interval(clm.make_model('bgnbd', ARRAY[1, 1, 0.01, 100]), 1e9, 1e6, 10, 10);
-- aggregates: no row gives NULL; rows with a NULL are skipped; one model,
-- horizon and level per aggregate; crafted states are refused
SELECT clm.expected_purchases_total(m, 52, x, t_x, t) FROM cal, fit WHERE false;
SELECT (clm.expected_purchases_total(m, 52, x, t_x, t)).estimate
     = (clm.expected_purchases_total(m, 52, x, t_x, t) FILTER (WHERE customer_id > 10)).estimate + 0 AS unchanged_by_nulls
FROM (SELECT customer_id, CASE WHEN customer_id > 10 THEN x END AS x, t_x, t FROM cal) c, fit
WHERE false;
SELECT abs((clm.expected_purchases_total(m, 52, CASE WHEN customer_id % 2 = 0 THEN x END, t_x, t)).estimate
           - sum(clm.expected_purchases(m, 52, x, t_x, t)) FILTER (WHERE customer_id % 2 = 0)) < 1e-6 AS nulls_skipped
FROM cal, fit;
SELECT clm.expected_purchases_total(CASE WHEN customer_id % 2 = 0 THEN m ELSE clm.make_model('bgnbd', ARRAY[1, 2, 3, 4]) END, 52, x, t_x, t) FROM cal, fit;
SELECT clm.expected_purchases_total(m, t, x, t_x, t) FROM cal, fit;
SELECT clm.alive_customers_total(m, x, t_x, t, CASE WHEN x > 2 THEN 0.9 ELSE 0.8 END) FROM cal, fit;
SELECT clm.alive_customers_total(m, x, t_x, t, 1) FROM cal, fit;
SELECT clm.expected_purchases_total_trans('{1,2,3}', m, 52, 1, 3, 40) FROM fit;
SELECT clm.interval_total_final('{1,2,3}');
SELECT clm.interval_total_final(array_fill(0::float8, ARRAY[41]));
SELECT clm.interval_total_combine(clm.alive_customers_total_trans(NULL, m, 1, 3, 40), clm.alive_customers_total_trans(NULL, m, 1, 3, 40, 0.8)) FROM fit;
SELECT (clm.interval_total_final(clm.interval_total_combine(s, s))).estimate = 2 * (clm.interval_total_final(s)).estimate AS combine_adds
FROM (SELECT clm.alive_customers_total_trans(NULL, m, 1, 3, 40) AS s FROM fit) q;
-- a crafted state of the right shape with a NaN sum
SELECT clm.interval_total_final(s[1:22] || 'NaN'::float8 || s[24:41])
FROM (SELECT clm.alive_customers_total_trans(NULL, m, 1, 3, 40) AS s FROM fit) q;

-- Seeded simulation (a few replications of the bench's study): per
-- replication, 2000 customers simulated with known BG/NBD parameters (their
-- events' instants: continuous time, as the model has it), the fit on the
-- calibration year, the 90% interval of the holdout total and whether it
-- covers the simulated total; then every customer's count.
-- Deterministic: generate_events and the interval draws are seeded.
CREATE TEMP TABLE sim AS
SELECT rep, x::float8, t_x, t, y
FROM (SELECT rep, count(*) FILTER (WHERE occurred_at < '2024-01-01 00:00+00') - 1 AS x,
             extract(epoch FROM max(occurred_at) FILTER (WHERE occurred_at < '2024-01-01 00:00+00')
                                - min(occurred_at))::float8 / 604800 AS t_x,
             extract(epoch FROM '2024-01-01 00:00+00' - min(occurred_at))::float8 / 604800 AS t,
             count(*) FILTER (WHERE occurred_at >= '2024-01-01 00:00+00') AS y
      FROM generate_series(1, 5) AS rep,
           LATERAL clm.generate_events(2000, seed => 100 + rep, visit_ratio => 0, prospect_share => 0) AS e
      GROUP BY rep, customer_id) s
WHERE x >= 0;
CREATE TEMP TABLE simfit AS SELECT rep, clm.bgnbd_fit(x, t_x, t) AS m FROM sim GROUP BY rep;
SELECT rep, sum(y) AS simulated,
       round((clm.expected_purchases_total(f.m, 366 / 7.0, x, t_x, t)).lower::numeric, -1) AS lower_10,
       round((clm.expected_purchases_total(f.m, 366 / 7.0, x, t_x, t)).upper::numeric, -1) AS upper_10,
       sum(y) BETWEEN (clm.expected_purchases_total(f.m, 366 / 7.0, x, t_x, t)).lower
                  AND (clm.expected_purchases_total(f.m, 366 / 7.0, x, t_x, t)).upper AS covered
FROM sim JOIN simfit f USING (rep) GROUP BY rep ORDER BY rep;
-- per customer: the share of counts inside their interval is at least 90%
-- (whole counts: the interval holds at least 90% of the probability) and
-- matches the model's probability of the intervals (here 96.0% to 96.6%
-- per replication in the bench)
SELECT rep, count(*) AS customers,
       avg(((e).lower <= y AND y <= (e).upper)::int) BETWEEN 0.93 AND 0.99 AS coverage_ok,
       round(avg(((e).lower <= y AND y <= (e).upper)::int), 2) AS coverage
FROM sim JOIN simfit f USING (rep), clm.expected_purchases_interval(f.m, 366 / 7.0, x, t_x, t) AS e
GROUP BY rep ORDER BY rep;
