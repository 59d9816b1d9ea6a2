-- clm models: types, text round trips, small fits, predictions, errors
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- A BG/NBD model made from the published CDNOW parameters (FHL 2005).
CREATE TABLE published (name text PRIMARY KEY, m clm.model);
INSERT INTO published VALUES
  ('bgnbd', clm.make_model('bgnbd', '{0.243, 4.414, 0.793, 2.426}')),
  ('paretonbd', clm.make_model('paretonbd', '{0.553, 10.578, 0.606, 11.669}')),
  ('gg', clm.make_model('gg', '{6.25, 3.74, 15.44}')),
  ('bgbb', clm.make_model('bgbb', '{1.204, 0.750, 0.657, 2.783}')),
  ('sbg', clm.make_model('sbg', '{0.704, 1.182}'));
SELECT name, m FROM published ORDER BY name;
SELECT name, (clm.model_info(m)).* FROM published ORDER BY name;
SELECT clm.model_parameter(m, 'alpha') FROM published WHERE name = 'bgnbd';

-- FHL 2005: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks
SELECT round(clm.expected_purchases(m, 39, 2, 30.43, 38.86)::numeric, 3) AS fhl_1226,
       round(clm.p_alive(m, 2, 30.43, 38.86)::numeric, 4) AS p_alive,
       round(clm.churn_probability(m, 2, 30.43, 38.86)::numeric, 4) AS churn,
       round(clm.p_no_purchase(m, 39, 2, 30.43, 38.86)::numeric, 4) AS p_none,
       round(clm.p_purchases(m, 0, 39, 2, 30.43, 38.86)::numeric, 4) AS p0,
       round(clm.p_purchases(m, 1, 39, 2, 30.43, 38.86)::numeric, 4) AS p1
FROM published WHERE name = 'bgnbd';
-- Pareto/NBD P(Y(39) = k): P(0) equals p_no_purchase, the probabilities sum to 1
-- and their mean is expected_purchases (the unit tests check the same to 1e-9)
SELECT bool_and(round(clm.p_purchases(m, 0, 39, 2, 30.43, 38.86)::numeric, 10) = round(clm.p_no_purchase(m, 39, 2, 30.43, 38.86)::numeric, 10)) AS p0_is_p_none,
       round(sum(clm.p_purchases(m, k, 39, 2, 30.43, 38.86))::numeric, 8) AS total,
       round(sum(k * clm.p_purchases(m, k, 39, 2, 30.43, 38.86))::numeric, 6) = round(min(clm.expected_purchases(m, 39, 2, 30.43, 38.86))::numeric, 6) AS mean_is_expected
FROM published, generate_series(0, 300) k WHERE name = 'paretonbd' GROUP BY name, m::text;
-- a customer with no repeat purchase is alive for sure under BG/NBD
SELECT clm.p_alive(m, 0, 0, 38.86) FROM published WHERE name = 'bgnbd';

-- Gamma-Gamma by hand: 6.25 (15.44 + 2 * 22.35) / (6.25 * 2 + 3.74 - 1) = 375.875 / 15.24 = 24.6637;
-- population mean 6.25 * 15.44 / 2.74 = 35.2190
SELECT round(clm.expected_spend(m, 2, 22.35)::numeric, 4),
       round(clm.expected_spend(m, 0, 0)::numeric, 4) AS population_mean_6_25x15_44_over_2_74
FROM published WHERE name = 'gg';

-- CLV with no discount over 39 weeks = margin * spend * expected purchases
SELECT round(clm.clv(m, 39, 0, 0.5, 20, 2, 30.43, 38.86)::numeric, 6)
     = round((10 * clm.expected_purchases(m, 39, 2, 30.43, 38.86))::numeric, 6) AS clv_telescopes,
       clm.clv(m, 39, 0.01, 0.5, 20, 2, 30.43, 38.86) < clm.clv(m, 39, 0, 0.5, 20, 2, 30.43, 38.86) AS discount_lowers
FROM published WHERE name = 'bgnbd';

-- sBG (Fader and Hardie 2007): S(t) = B(g, d+t)/B(g, d); r(1) = d/(g+d) = 1.182/1.886
SELECT round(clm.survival(m, 1)::numeric, 4) AS s1, round(clm.retention_rate(m, 1)::numeric, 4) AS r1,
       round((1000 * clm.survival(m, 7))::numeric, 1) AS s7_of_1000
FROM published WHERE name = 'sbg';

-- sBG fit on the regular cohort of Fader and Hardie (2007): gamma 0.704, delta 1.182
WITH surv(t, n) AS (VALUES (0, 1000), (1, 631), (2, 468), (3, 382), (4, 326), (5, 289), (6, 262), (7, 241)),
rows AS (
  SELECT t::float8 AS periods, true AS churned, (lag(n) OVER (ORDER BY t) - n)::float8 AS w FROM surv
  UNION ALL SELECT 7, false, 241)
SELECT round(clm.model_parameter(f, 'gamma')::numeric, 3) AS gamma,
       round(clm.model_parameter(f, 'delta')::numeric, 3) AS delta,
       (clm.model_info(f)).converged, (clm.model_info(f)).n_customers
FROM (SELECT clm.sbg_fit(periods, churned, w) AS f FROM rows WHERE w IS NOT NULL) s;

-- model text round trip is exact (so pg_dump/restore keeps it)
SELECT m::text::clm.model::text = m::text AS round_trip FROM published ORDER BY name;
SELECT 'bgnbd r=0.1 alpha=2 a=0.5 b=3 loglik=-12.5 n=10 distinct=4 converged=true iterations=7 message=''ok'''::clm.model;

-- histograms: sorted, duplicates merged, exact round trip, text and binary
SELECT 'bgnbd:2,30.43,38.86,1;0,0,38.86,2;2,30.43,38.86,3'::clm.model_histogram;
SELECT h::text::clm.model_histogram::text = h::text AS round_trip
FROM (SELECT 'paretonbd:0.1,0.05,0.30000000000000004,1;1e-7,1e-8,3,2.5'::clm.model_histogram AS h) s;
CREATE TABLE hists (h clm.model_histogram);
INSERT INTO hists VALUES ('bgnbd:0,0,38.86,2;2,30.43,38.86,1'), ('sbg:1,1,0,369;7,0,0,241'), ('scores:0.25,1,0,3');
COPY hists TO '/tmp/clm_models_hists.bin' WITH (FORMAT binary);
CREATE TABLE hists2 (h clm.model_histogram);
COPY hists2 FROM '/tmp/clm_models_hists.bin' WITH (FORMAT binary);
SELECT h FROM hists2;
SELECT (SELECT array_agg(h::text) FROM hists) = (SELECT array_agg(h::text) FROM hists2) AS binary_round_trip;
COPY published TO '/tmp/clm_models_published.bin' WITH (FORMAT binary);
CREATE TABLE published2 (LIKE published);
COPY published2 FROM '/tmp/clm_models_published.bin' WITH (FORMAT binary);
SELECT (SELECT array_agg(m::text ORDER BY name) FROM published)
     = (SELECT array_agg(m::text ORDER BY name) FROM published2) AS model_binary_round_trip;

-- a small fit: on these 12 customers the BG/NBD optimum is at infinity (a and b
-- grow together: a point-mass dropout probability), so the fit is returned with
-- converged = false and a warning, never silently
CREATE TABLE small (x float8, t_x float8, "T" float8);
INSERT INTO small SELECT * FROM (VALUES (0, 0, 30), (0, 0, 35), (1, 10, 30), (2, 20, 38), (3, 25, 36),
  (1, 5, 32), (4, 30, 31), (0, 0, 27), (5, 33, 39), (1, 28, 29), (2, 8, 35), (0, 0, 38)) v;
SELECT (clm.model_info(f)).kind, (clm.model_info(f)).converged, (clm.model_info(f)).n_customers,
       (clm.model_info(f)).n_distinct
FROM (SELECT clm.bgnbd_fit(x, t_x, "T") AS f FROM small) s;
-- rows with a NULL input are skipped; an empty input gives NULL
SELECT clm.bgnbd_fit(x, t_x, "T") IS NULL AS empty_is_null FROM small WHERE false;
SELECT (clm.model_info(clm.bgnbd_fit(x, t_x, "T"))).n_customers
FROM (SELECT * FROM small UNION ALL SELECT NULL, 1, 2) s;

-- ROC AUC and Brier score; by hand: churners 0.9, 0.6, 0.4; stayers 0.6, 0.2
-- pairs (c > s): 0.9>0.6, 0.9>0.2, 0.6>0.2, 0.4>0.2, tie 0.6=0.6 -> (4 + 0.5)/6 = 0.75
-- Brier: (0.01 + 0.16 + 0.36 + 0.36 + 0.04)/5 = 0.186
SELECT clm.roc_auc(p, y), round(clm.brier_score(p, y)::numeric, 6)
FROM (VALUES (0.9, true), (0.6, true), (0.4, true), (0.6, false), (0.2, false)) v(p, y);
SELECT clm.roc_auc(p, y) IS NULL AS one_class_is_null FROM (VALUES (0.9, true)) v(p, y);

-- errors, each with its SQLSTATE
\set VERBOSITY sqlstate
SELECT 'bgnbd'::clm.model;
SELECT 'bgnbd r=0.1 alpha=2 a=0.5'::clm.model;
SELECT 'bgnbd r=-1 alpha=2 a=0.5 b=1'::clm.model;
SELECT 'bgnbd r=0.1 alpha=2 a=0.5 b=1 colour=2'::clm.model;
SELECT 'bgnbd r=0.1 alpha=2 a=0.5 b=zz'::clm.model;
SELECT 'nosuch r=1'::clm.model;
SELECT 'bgnbd:1,2'::clm.model_histogram;
SELECT 'bgnbd:1,5,4,1'::clm.model_histogram;
SELECT 'bgnbd:1,1,4,-1'::clm.model_histogram;
SELECT 'bgnbd:1,1,4,1 x'::clm.model_histogram;
SELECT 'bgnbd:nan,1,4,1'::clm.model_histogram;
SELECT 'unknown:1,1,4,1'::clm.model_histogram;
SELECT 'scores:1.5,1,0,1'::clm.model_histogram;
SELECT clm.make_model('bgnbd', '{1,2,3}');
SELECT clm.make_model('bgnbd', '{1,2,3,0}');
SELECT clm.make_model('foo', '{1}');
SELECT clm.model_parameter(m, 's') FROM published WHERE name = 'bgnbd';
SELECT clm.p_alive(m, 1, 1, 1) FROM published WHERE name = 'gg';
SELECT clm.expected_spend(m, 1, 1) FROM published WHERE name = 'bgnbd';
SELECT clm.survival(m, 1) FROM published WHERE name = 'paretonbd';
SELECT clm.p_purchases(m, 1, 1, 1, 1, 1) FROM published WHERE name = 'bgbb';
SELECT clm.discounted_expected_transactions(m, 0.01, 1, 1, 2) FROM published WHERE name = 'bgnbd';
SELECT clm.p_alive(m, 1, 5, 4) FROM published WHERE name = 'bgnbd';
SELECT clm.p_alive(m, -1, 0, 4) FROM published WHERE name = 'bgnbd';
SELECT clm.expected_purchases(m, -1, 1, 1, 4) FROM published WHERE name = 'bgnbd';
SELECT clm.p_purchases(m, -1, 1, 1, 1, 4) FROM published WHERE name = 'bgnbd';
SELECT clm.expected_purchases(m, 2.5, 1, 1, 6) FROM published WHERE name = 'bgbb';
SELECT clm.clv(m, -1, 0, 1, 1, 1, 1, 4) FROM published WHERE name = 'bgnbd';
SELECT clm.expected_spend(clm.make_model('gg', '{1, 0.5, 1}'), 0, 0);
SELECT clm.bgnbd_fit(x, t_x, "T") FROM (VALUES (0, 0, 30), (0, 0, 31), (0, 0, 32), (0, 0, 33), (0, 0, 34),
  (0, 0, 35), (0, 0, 36), (0, 0, 37), (0, 0, 38)) v(x, t_x, "T");
SELECT clm.paretonbd_fit(x, t_x, "T") FROM (VALUES (1, 1, 30), (2, 5, 31)) v(x, t_x, "T");
SELECT clm.bgnbd_fit(x, t_x, "T") FROM (VALUES (1, 40, 30)) v(x, t_x, "T");
SELECT clm.gg_fit(x, s) FROM (VALUES (1, -5)) v(x, s);
SELECT clm.bgbb_fit(x, t_x, n) FROM (VALUES (1.5, 2, 6)) v(x, t_x, n);
SELECT clm.sbg_fit(p, c) FROM (VALUES (0, true)) v(p, c);
SELECT clm.sbg_fit(p, c) FROM (VALUES (3, false), (4, false), (5, false), (6, false)) v(p, c);
SELECT clm.roc_auc(p, y) FROM (VALUES (1.5, true)) v(p, y);
SELECT clm.bgnbd_fit_trans(NULL, 1, 1, 2);
-- corrupt binary histograms (binary COPY files written with printf):
-- unknown kind 99; n = 5 without its tuples; an sbg tuple with weight -1
COPY hists2 FROM PROGRAM 'printf "PGCOPY\\n\\377\\r\\n\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\\10\\0\\0\\0\\143\\0\\0\\0\\0\\377\\377"' WITH (FORMAT binary);
COPY hists2 FROM PROGRAM 'printf "PGCOPY\\n\\377\\r\\n\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\\10\\0\\0\\0\\1\\0\\0\\0\\5\\377\\377"' WITH (FORMAT binary);
COPY hists2 FROM PROGRAM 'printf "PGCOPY\\n\\377\\r\\n\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\\50\\0\\0\\0\\6\\0\\0\\0\\1\\77\\360\\0\\0\\0\\0\\0\\0\\77\\360\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\277\\360\\0\\0\\0\\0\\0\\0\\377\\377"' WITH (FORMAT binary);
-- the same file with weight +1 is accepted
COPY hists2 FROM PROGRAM 'printf "PGCOPY\\n\\377\\r\\n\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\1\\0\\0\\0\\50\\0\\0\\0\\6\\0\\0\\0\\1\\77\\360\\0\\0\\0\\0\\0\\0\\77\\360\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\77\\360\\0\\0\\0\\0\\0\\0\\377\\377"' WITH (FORMAT binary);
SELECT h FROM hists2 WHERE h::text LIKE 'sbg:1,1,0,1';
\set VERBOSITY default
-- the full message where the wording matters
SELECT clm.bgnbd_fit(x, t_x, "T") FROM (VALUES (0, 0, 30), (0, 0, 31), (0, 0, 32), (0, 0, 33), (0, 0, 34),
  (0, 0, 35), (0, 0, 36), (0, 0, 37), (0, 0, 38)) v(x, t_x, "T");
SELECT clm.p_alive(m, 1, 1, 1) FROM published WHERE name = 'gg';
-- a customer whose first purchase is on the calibration end (x = t_x = T = 0)
-- can be scored: every prediction is the limit T -> 0 (checked against
-- T = 1e-9), P(alive) = 1 for BG/NBD and Pareto/NBD (no dropout before a
-- repeat purchase), < 1 for MBG/NBD (dropout possible at the first purchase)
WITH m AS (SELECT clm.make_model(k, p) AS m, k
             FROM (VALUES ('bgnbd', '{0.243,4.414,0.793,2.426}'::float8[]), ('mbgnbd', '{0.243,4.414,0.793,2.426}'),
                          ('paretonbd', '{0.553,10.578,0.606,11.669}')) v(k, p))
SELECT k, round(clm.p_alive(m, 0, 0, 0)::numeric, 6) AS p_alive,
       abs(clm.p_alive(m, 0, 0, 0) - clm.p_alive(m, 0, 0, 1e-9)) < 1e-6 AS p_alive_limit,
       abs(clm.expected_purchases(m, 52, 0, 0, 0) - clm.expected_purchases(m, 52, 0, 0, 1e-9)) < 1e-6 AS expected_limit,
       abs(clm.p_no_purchase(m, 52, 0, 0, 0) - clm.p_no_purchase(m, 52, 0, 0, 1e-9)) < 1e-6 AS p_none_limit,
       abs(clm.clv(m, 52, 0.01, 1, 50, 0, 0, 0) - clm.clv(m, 52, 0.01, 1, 50, 0, 0, 1e-9)) < 1e-6 AS clv_limit
FROM m ORDER BY k;
-- but x > 0 with T = 0 stays an error
SELECT clm.p_alive(clm.make_model('bgnbd', '{0.243,4.414,0.793,2.426}'), 1, 0, 0);

-- The BG/NBD and MBG/NBD expectations given alive are memoised per call site
-- on (x, T, t) (expected_purchases) and (x, T, discount rate) (clv).  Every
-- value computed in one query, with hits, with two models alternating row by
-- row (the same (x, T) under the other model must not hit) and a horizon
-- that varies, must equal to the bit the value computed alone (EXECUTE plans
-- each call afresh, so nothing is memoised).
CREATE FUNCTION fresh_expected(m clm.model, t float8, x float8, t_x float8, "T" float8) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE v float8;
BEGIN
    EXECUTE 'SELECT clm.expected_purchases($1, $2, $3, $4, $5)' INTO v USING m, t, x, t_x, "T";
    RETURN v;
END $$;
CREATE FUNCTION fresh_clv(m clm.model, h int, d float8, x float8, t_x float8, "T" float8) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE v float8;
BEGIN
    EXECUTE 'SELECT clm.clv($1, $2, $3, 1, 10, $4, $5, $6)' INTO v USING m, h, d, x, t_x, "T";
    RETURN v;
END $$;
CREATE TEMP TABLE memo_rows AS
SELECT i, CASE WHEN i % 2 = 0 THEN clm.make_model('bgnbd', '{0.243,4.414,0.793,2.426}')
               ELSE clm.make_model('mbgnbd', '{0.243,4.414,0.793,2.426}') END AS m,
       (i / 2 % 4)::float8 AS x, CASE WHEN i / 2 % 4 = 0 THEN 0 ELSE (i % 3) + 1 END::float8 AS t_x,
       (5 + i / 16 % 3)::float8 AS "T", (ARRAY[4.3, 12.9, 52.1])[i / 7 % 3 + 1]::float8 AS t,
       26 + (i / 11 % 2) * 26 AS h
  FROM generate_series(0, 299) i;
SELECT count(*) AS rows, count(DISTINCT (m::text, x, "T", t)) AS distinct_keys,
       count(*) FILTER (WHERE clm.expected_purchases(m, t, x, t_x, "T") <> fresh_expected(m, t, x, t_x, "T")) AS expected_mismatches,
       count(*) FILTER (WHERE clm.clv(m, h, 0.01, 1, 10, x, t_x, "T") <> fresh_clv(m, h, 0.01, x, t_x, "T")) AS clv_mismatches
  FROM memo_rows;
