-- clm.choose_model (issue 15, part 5): the candidate models fitted on a
-- calibration period and scored on the holdout after it; the tracked-source
-- setting model = 'auto'.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;
SET client_min_messages = warning;

-- Simulated data with a known model: 4,000 customers of clm.generate_events
-- for each dropout story and seed (r 0.75, alpha 10 weeks, a 0.8, b 2.5;
-- s 0.6, beta 10), calibration to 2024-07-01, holdout the 26 weeks to
-- 2024-12-31.  How often is the true model chosen (by the default metric, the
-- holdout log-likelihood), and how often by the MAE?
CREATE TEMP TABLE sim_choice (dropout text, seed int, by_log_score text, by_mae text, by_rmse text);
DO $$
DECLARE
    d text;
    sd int;
BEGIN
    FOREACH d IN ARRAY ARRAY['bgnbd', 'mbgnbd', 'paretonbd'] LOOP
        FOR sd IN 1 .. 3 LOOP
            DROP TABLE IF EXISTS sim_profiles;
            CREATE TEMP TABLE sim_profiles AS
            SELECT customer_id, clm.profile(occurred_at, amount, channel) AS profile
              FROM clm.generate_events(4000, seed => sd, dropout => d, alpha => 10, visit_ratio => 0)
             GROUP BY customer_id;
            -- the MAE and RMSE choices from the same rows
            INSERT INTO sim_choice
            SELECT d, sd, max(c.model) FILTER (WHERE c.chosen),
                   (array_agg(c.model ORDER BY c.holdout_mae))[1], (array_agg(c.model ORDER BY c.holdout_rmse))[1]
              FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31') c;
        END LOOP;
    END LOOP;
END
$$;
SELECT dropout, seed, by_log_score, by_mae, by_rmse FROM sim_choice ORDER BY 1, 2;
SELECT count(*) AS runs, count(*) FILTER (WHERE by_log_score = dropout) AS true_by_log_score,
       count(*) FILTER (WHERE by_mae = dropout) AS true_by_mae,
       count(*) FILTER (WHERE by_rmse = dropout) AS true_by_rmse
  FROM sim_choice;

-- Every figure of one run against an independent computation: the fits by
-- the profile aggregates, the holdout errors per customer (not per distinct
-- input as clm.choose_model groups them), the log-likelihoods and criteria
-- from clm.model_info.
CREATE TEMP TABLE choice AS
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31');
SELECT model, status, chosen, reason FROM choice;
CREATE TEMP TABLE per_customer AS
SELECT c.x, c.t_x, c.t, h.x - c.x AS actual
  FROM sim_profiles p, clm.btyd_inputs(p.profile, '2024-07-01', 'week') c,
       clm.btyd_inputs(p.profile, '2024-12-31', 'week') h
 WHERE c.x IS NOT NULL AND c.t > 0;
CREATE TEMP TABLE fits AS
SELECT 'bgnbd' AS kind, clm.bgnbd_fit(profile, '2024-07-01', 'week') AS m FROM sim_profiles
UNION ALL SELECT 'mbgnbd', clm.mbgnbd_fit(profile, '2024-07-01', 'week') FROM sim_profiles
UNION ALL SELECT 'paretonbd', clm.paretonbd_fit(profile, '2024-07-01', 'week') FROM sim_profiles;
CREATE TEMP TABLE direct AS
SELECT f.kind, (array_agg(f.m))[1] AS m, count(*) AS customers,
       avg(abs(e.p - pc.actual)) AS mae, sqrt(avg((e.p - pc.actual) ^ 2)) AS rmse,
       sum(e.p) AS predicted, sum(pc.actual) AS actual,
       sum(ln(clm.p_purchases(f.m, pc.actual::int, 26 + 1 / 7.0, pc.x, pc.t_x, pc.t))) AS hll
  FROM fits f, per_customer pc,
       LATERAL (SELECT clm.expected_purchases(f.m, 26 + 1 / 7.0, pc.x, pc.t_x, pc.t)) e(p)
 GROUP BY f.kind;
SELECT d.kind, d.customers = c.customers AS same_customers,
       (clm.model_info(d.m)).parameters = (clm.model_info(c.fit)).parameters AS same_fit,
       abs(c.holdout_mae - d.mae) < 1e-12 AS mae, abs(c.holdout_rmse - d.rmse) < 1e-12 AS rmse,
       abs(c.predicted - d.predicted) < 1e-8 AS predicted, c.actual = d.actual AS actual,
       abs(c.holdout_log_likelihood - d.hll) < 1e-8 AS holdout_ll,
       abs(c.total_error - (d.predicted / d.actual - 1)) < 1e-12 AS total_error,
       c.log_likelihood = (clm.model_info(d.m)).log_likelihood AS ll,
       abs(c.bic - (4 * ln(d.customers) - 2 * (clm.model_info(d.m)).log_likelihood)) < 1e-9 AS bic,
       abs(c.aic - (8 - 2 * (clm.model_info(d.m)).log_likelihood)) < 1e-9 AS aic
  FROM direct d JOIN choice c ON c.model = d.kind
 ORDER BY 1;
-- the chosen one has the highest holdout log-likelihood
SELECT (SELECT kind FROM direct ORDER BY hll DESC LIMIT 1) = (SELECT model FROM choice WHERE chosen) AS best_chosen;

-- BG/BB where the data is discrete: 2,000 customers simulated by its story
-- with monthly opportunities (first purchase 2020-01-01, then a purchase on
-- the first of a month with probability p while alive, death after each month
-- with probability theta), calibration 36 months, holdout 12, ranked by
-- RMSE: BG/BB, the true story, is chosen.  Its inputs are the months rounded,
-- checked against clm.bgbb_fit and a per-customer RMSE.
SELECT setseed(0.25);
CREATE TEMP TABLE monthly AS
WITH c AS (SELECT g AS customer_id, random() ^ 2 AS p, 0.02 + 0.1 * random() AS theta, random() AS u
             FROM generate_series(1, 2000) g),
d AS (SELECT customer_id, p, ceil(ln(u) / ln(1 - theta)) AS death FROM c)
SELECT customer_id, clm.profile(day, 10::numeric) AS profile
  FROM (SELECT customer_id, DATE '2020-01-01' AS day FROM d
        UNION ALL
        SELECT d.customer_id, (DATE '2020-01-01' + make_interval(months => m))::date
          FROM d, generate_series(1, 47) m WHERE m < d.death AND random() < d.p) e
 GROUP BY customer_id;
CREATE TEMP TABLE monthly_choice AS
SELECT * FROM clm.choose_model('monthly', '2023-01-01', '2024-01-01', 'month', '{bgbb,bgnbd,paretonbd}', 'rmse');
SELECT model, status, chosen, round(holdout_rmse::numeric, 4) AS rmse, reason FROM monthly_choice;
WITH i AS (
    SELECT c.x, round(c.t_x) AS t_x, round(c.t) AS n, h.x - c.x AS actual
      FROM monthly p, clm.btyd_inputs(p.profile, '2023-01-01', 'month') c,
           clm.btyd_inputs(p.profile, '2024-01-01', 'month') h
     WHERE c.x IS NOT NULL AND c.t > 0
), f AS (SELECT clm.bgbb_fit(x, t_x, n) AS m FROM i)
SELECT count(*) AS customers, count(*) FILTER (WHERE i.x > i.t_x) AS not_discrete,
       bool_and((clm.model_info(f.m)).parameters = (clm.model_info(r.fit)).parameters) AS same_fit,
       abs(sqrt(avg((clm.expected_purchases(f.m, 12, i.x, i.t_x, i.n) - i.actual) ^ 2))
           - min(r.holdout_rmse)) < 1e-12 AS rmse
  FROM i, f, monthly_choice r WHERE r.model = 'bgbb';
-- no holdout log-likelihood for BG/BB; by the day any data are discrete (a purchase day a day)
SELECT model, status FROM clm.choose_model('monthly', '2023-01-01', '2024-01-01', 'month', '{bgbb}');
SELECT model, left(status, 40) AS status FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', 'day', '{bgbb}', 'mae');

-- Models that cannot be fitted are reported, not chosen: 30 customers with one
-- repeat purchase between them (no finite optimum), and 30 daily buyers
CREATE TEMP TABLE flat AS SELECT c AS customer_id, clm.profile(day, 10::numeric) AS profile
  FROM (SELECT g AS c, DATE '2024-01-01' + g AS day FROM generate_series(1, 30) g
        UNION ALL SELECT 1, DATE '2024-03-01') e GROUP BY c;
SELECT model, status, chosen, reason FROM clm.choose_model('flat', '2024-04-01', '2024-07-01');
CREATE TEMP TABLE daily AS SELECT c AS customer_id, clm.profile(day, 10::numeric) AS profile
  FROM (SELECT g AS c, DATE '2024-01-01' + k AS day FROM generate_series(1, 30) g, generate_series(0, 180) k) e GROUP BY c;
SELECT model, status, chosen FROM clm.choose_model('daily', '2024-04-01', '2024-07-01', candidates => '{paretonbd}');

-- Bad inputs
\set VERBOSITY sqlstate
SELECT * FROM clm.choose_model(NULL, '2024-07-01', '2024-12-31');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', NULL);
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', candidates => NULL);
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', 'year');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-07-07');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-06-01');
SELECT * FROM clm.choose_model('sim_profiles', '-infinity', '2024-06-01');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', metric => 'auc');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', candidates => '{bgnbd,gg}');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', candidates => '{bgnbd,NULL}');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', candidates => '{}');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', profile_column => 'nope');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', profile_column => 'customer_id');
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', profile_column => 'ctid');
-- too few customers: fewer than 20 with a purchase before the calibration end
SELECT * FROM clm.choose_model('sim_profiles', '2023-01-02', '2023-12-31');
CREATE ROLE choice_nobody;
GRANT USAGE ON SCHEMA clm TO choice_nobody;
SET ROLE choice_nobody;
SELECT * FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31');
RESET ROLE;
\set VERBOSITY terse
SELECT * FROM clm.choose_model('flat', '2024-01-05', '2024-07-01');
\set VERBOSITY default
-- duplicates are fitted once
SELECT model FROM clm.choose_model('sim_profiles', '2024-07-01', '2024-12-31', candidates => '{bgnbd,bgnbd}');
-- a holdout without a purchase still ranks (the smallest prediction)
SELECT model, chosen, actual FROM clm.choose_model('flat', '2024-04-01', '2024-04-09', 'day', '{bgnbd}', 'total');

-- A tracked source with model = 'auto': the choice on the last
-- model_holdout_weeks (26) runs at each refit, recorded in
-- clm.tracked_model_choice; the chosen model is fitted on all the data
CREATE TABLE choice_events AS
SELECT customer_id, occurred_at, amount, channel
  FROM clm.generate_events(3000, seed => 7, dropout => 'paretonbd', alpha => 10, visit_ratio => 0)
 WHERE event_type = 'purchase';
SELECT name, action, customers FROM clm.track('choice_events', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'choice_trk', settings => '{"model": "auto", "as_of": "2024-12-31"}');
SELECT source, as_of, calibration_end, model, status, chosen, reason FROM clm.tracked_model_choice ORDER BY model;
-- the same as clm.choose_model on the profiles
SELECT count(*) AS candidates,
       count(*) FILTER (WHERE t.chosen = c.chosen AND t.reason = c.reason
                          AND t.holdout_log_likelihood = c.holdout_log_likelihood AND t.holdout_mae = c.holdout_mae) AS same
  FROM clm.tracked_model_choice t
  JOIN clm.choose_model('choice_trk.profiles', '2024-07-02', '2024-12-31') c USING (model);
SELECT m.kind, (clm.model_info(m.model)).parameters = (clm.model_info(f.m)).parameters AS fitted_on_all
  FROM choice_trk.models m,
       (SELECT clm.paretonbd_fit(profile, '2024-12-31', 'week') AS m FROM choice_trk.profiles) f
 WHERE m.role = 'purchase';
-- a holdout longer than the data: too few customers, BG/NBD by default with the reason
UPDATE clm.tracked_source SET settings = settings || '{"model_holdout_weeks": 100}' WHERE name = 'choice_trk';
SELECT refit FROM clm.refresh('choice_trk', refit => true);
SELECT model, status, chosen, reason FROM clm.tracked_model_choice;
SELECT kind FROM choice_trk.models WHERE role = 'purchase';
UPDATE clm.tracked_source SET settings = settings || '{"model_holdout_weeks": 105}' WHERE name = 'choice_trk';
SELECT refit FROM clm.refresh('choice_trk', refit => true);
SELECT model, status, chosen, reason FROM clm.tracked_model_choice;
SELECT kind FROM choice_trk.models WHERE role = 'purchase';
-- settings: model auto, model_holdout_weeks checked
\set VERBOSITY sqlstate
SELECT clm.track_settings('{"model": "best"}');
SELECT clm.track_settings('{"model_holdout_weeks": 0}');
\set VERBOSITY default
SELECT clm.track_settings('{"model": "auto"}') @> '{"model": "auto", "model_holdout_weeks": 26}' AS auto_ok;
-- a role that cannot see the source does not see its choice, nor write it
SET ROLE choice_nobody;
SELECT count(*) FROM clm.tracked_model_choice;
\set VERBOSITY sqlstate
INSERT INTO clm.tracked_model_choice (source, as_of, calibration_end, chosen_at, model, status, chosen)
VALUES ('choice_trk', '2024-01-01', '2024-01-01', now(), 'x', 'ok', true);
\set VERBOSITY default
RESET ROLE;
-- untrack removes the rows
SELECT clm.untrack('choice_trk');
SELECT count(*) FROM clm.tracked_model_choice;
DROP TABLE choice_events;
REVOKE USAGE ON SCHEMA clm FROM choice_nobody;
DROP ROLE choice_nobody;
