-- clm.choose_model on CDNOW (the 2,357-customer sample, raw transaction
-- log): BG/NBD, MBG/NBD and Pareto/NBD fitted on 1997-01-01 .. 1997-09-30
-- and scored on the 39 weeks to 1998-06-30 (Fader, Hardie & Lee 2005's
-- design).  Every figure checked against a plain SQL computation per customer.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;
SET client_min_messages = warning;
\getenv clm_data CLM_DATA_DIR
\set cdnow_file :clm_data '/CDNOW_sample.txt'
CREATE TABLE choice_cdnow_raw (line text);
COPY choice_cdnow_raw FROM :'cdnow_file';
CREATE TABLE choice_cdnow AS
SELECT f[2]::int AS customer_id, clm.profile(to_date(f[3], 'YYYYMMDD'), f[5]::numeric) AS profile
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), ' +') AS f FROM choice_cdnow_raw) s
 GROUP BY 1;

CREATE TABLE choice_cdnow_result AS
SELECT * FROM clm.choose_model('choice_cdnow', '1997-09-30', '1998-06-30');
SELECT model, status, chosen, round(holdout_log_likelihood::numeric, 2) AS holdout_ll,
       round(holdout_mae::numeric, 4) AS mae, round(holdout_rmse::numeric, 4) AS rmse,
       round(predicted::numeric, 1) AS predicted, actual, round(log_likelihood::numeric, 2) AS ll,
       round(bic::numeric, 2) AS bic, customers
  FROM choice_cdnow_result;
SELECT reason FROM choice_cdnow_result WHERE chosen;

-- the same figures per customer in plain SQL: the holdout counts from the
-- profiles at both dates, the predictions of the returned fits (BG/NBD's is
-- the published fit: r 0.2426, alpha 4.41, a 0.793, b 2.426, LL -9582.43)
WITH pc AS (
    SELECT c.x, c.t_x, c.t, h.x - c.x AS actual
      FROM choice_cdnow p, clm.btyd_inputs(p.profile, '1997-09-30', 'week') c,
           clm.btyd_inputs(p.profile, '1998-06-30', 'week') h
     WHERE c.x IS NOT NULL AND c.t > 0
)
SELECT r.model, count(*) AS customers, sum(pc.actual) AS actual,
       round(avg(abs(e.p - pc.actual))::numeric, 4) AS mae,
       abs(avg(abs(e.p - pc.actual)) - r.holdout_mae) < 1e-12 AS same_mae,
       abs(sqrt(avg((e.p - pc.actual) ^ 2)) - r.holdout_rmse) < 1e-12 AS same_rmse,
       abs(sum(ln(clm.p_purchases(r.fit, pc.actual::int, 39, pc.x, pc.t_x, pc.t))) - r.holdout_log_likelihood) < 1e-8 AS same_holdout_ll
  FROM choice_cdnow_result r, pc,
       LATERAL (SELECT clm.expected_purchases(r.fit, 39, pc.x, pc.t_x, pc.t)) e(p)
 GROUP BY r.model, r.holdout_mae, r.holdout_rmse, r.holdout_log_likelihood
 ORDER BY r.model;
-- the BG/NBD fit is Fader, Hardie & Lee's
SELECT (SELECT array_agg(round(v::numeric, 3)) FROM unnest((clm.model_info(fit)).parameters) v) AS parameters
  FROM choice_cdnow_result WHERE model = 'bgnbd';
DROP TABLE choice_cdnow_raw, choice_cdnow, choice_cdnow_result;
