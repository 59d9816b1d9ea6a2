--
-- Static covariates (issue 15, part 3): fits of BG/NBD, Pareto/NBD and
-- Gamma-Gamma with a covariate vector per customer, a customer's own model,
-- the predictions that take the covariates, the stored format, parallel =
-- serial, and bad input.  The likelihood and its gradient are checked
-- against closed forms and differences in test/unit/test_cov.c.
--
SET TimeZone = 'UTC';
SET extra_float_digits = 0;
CREATE SCHEMA test_covariates;
SET search_path = test_covariates, public;

-- four groups of customers from two dummies, web and de, simulated with
-- known effects (rates per week): BG/NBD alpha_i = 10 exp(-(0.5 web - 0.3 de)),
-- a_i = 0.8 exp(0.6 web + 0.2 de), b_i = 2.5 exp(0.6 web + 0.2 de), r = 0.75;
-- spend gamma_i = 15.44 exp(0.4 web) (p = 6.25, q = 3.74)
CREATE TABLE grp AS
  SELECT g, (g % 2)::float8 AS web, ((g / 2) % 2)::float8 AS de FROM generate_series(0, 3) g;
CREATE TABLE ev AS
  SELECT e.*, s.web, s.de FROM grp s,
    LATERAL clm.generate_events(5000, 7 + s.g, '2023-01-01', '2025-01-01', 365,
      r => 0.75, alpha => 10 * exp(-(0.5 * s.web - 0.3 * s.de)),
      a => 0.8 * exp(0.6 * s.web + 0.2 * s.de), b => 2.5 * exp(0.6 * s.web + 0.2 * s.de),
      spend_gamma => 15.44 * exp(0.4 * s.web),
      first_customer => s.g * 5000 + 1, prospect_share => 0) e;
CREATE TABLE prof AS
  SELECT customer_id, min(web) AS web, min(de) AS de,
         clm.profile(occurred_at, amount) FILTER (WHERE event_type = 'purchase') AS p
  FROM ev GROUP BY customer_id;

CREATE TABLE fits AS
  SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,de}') AS bg,
         clm.gg_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,de}') AS gg,
         clm.bgnbd_fit(p, '2025-01-01', 'week') AS bg0
  FROM prof;

-- recovery: every estimate within 3 standard errors of the truth (the
-- count within 2 shown: about 95% expected)
CREATE TABLE truth (kind text, name text, value float8);
INSERT INTO truth VALUES
  ('bgnbd', 'r', 0.75), ('bgnbd', 'alpha', 10), ('bgnbd', 'a', 0.8), ('bgnbd', 'b', 2.5),
  ('bgnbd', 'trans.web', 0.5), ('bgnbd', 'trans.de', -0.3), ('bgnbd', 'life.web', 0.6), ('bgnbd', 'life.de', 0.2),
  ('gg', 'p', 6.25), ('gg', 'q', 3.74), ('gg', 'gamma', 15.44), ('gg', 'spend.web', 0.4), ('gg', 'spend.de', 0);
CREATE TABLE est AS
  SELECT 'bgnbd' AS kind, n AS name, v AS value, s AS se
    FROM fits, unnest((clm.model_info(bg)).parameter_names, (clm.model_info(bg)).parameters, (clm.model_info(bg)).std_errors) AS u(n, v, s)
  UNION ALL
  SELECT 'bgnbd', process || '.' || covariate, effect, std_error FROM fits, clm.model_covariates(bg)
  UNION ALL
  SELECT 'gg', n, v, s
    FROM fits, unnest((clm.model_info(gg)).parameter_names, (clm.model_info(gg)).parameters, (clm.model_info(gg)).std_errors) AS u(n, v, s)
  UNION ALL
  SELECT 'gg', process || '.' || covariate, effect, std_error FROM fits, clm.model_covariates(gg);
SELECT kind, count(*) AS estimates,
       count(*) FILTER (WHERE abs(e.value - t.value) <= 2 * e.se) AS within_2_se,
       count(*) FILTER (WHERE abs(e.value - t.value) <= 3 * e.se) AS within_3_se
FROM est e JOIN truth t USING (kind, name) GROUP BY kind ORDER BY kind;
SELECT (clm.model_info(bg)).converged, (clm.model_info(gg)).converged,
       (clm.model_info(bg)).n_customers,
       -- the covariates explain: the log-likelihood rises by far more than
       -- the 4 added parameters' chi-square (9.49 at 5%) asks
       2 * ((clm.model_info(bg)).log_likelihood - (clm.model_info(bg0)).log_likelihood) > 9.49 AS lr_significant
FROM fits;
SELECT position, covariate, process, parameters FROM fits, clm.model_covariates(bg);

-- a customer's own model: the parameters by the links, by hand
SELECT abs(clm.model_parameter(clm.model_for(bg, '{1,1}'), 'alpha')
           - clm.model_parameter(bg, 'alpha') * exp(-(clm.model_parameter(bg, 'trans.web') + clm.model_parameter(bg, 'trans.de')))) < 1e-12 AS alpha_i,
       abs(clm.model_parameter(clm.model_for(bg, '{1,0}'), 'a')
           - clm.model_parameter(bg, 'a') * exp(clm.model_parameter(bg, 'life.web'))) < 1e-12 AS a_i,
       abs(clm.model_parameter(clm.model_for(bg, '{0,1}'), 'b')
           - clm.model_parameter(bg, 'b') * exp(clm.model_parameter(bg, 'life.de'))) < 1e-12 AS b_i,
       clm.model_parameter(clm.model_for(bg, '{0,0}'), 'alpha') = clm.model_parameter(bg, 'alpha') AS at_zero,
       clm.model_parameter(clm.model_for(bg, '{1,1}'), 'r') = clm.model_parameter(bg, 'r') AS r_shared,
       abs(clm.model_parameter(clm.model_for(gg, '{1,0}'), 'gamma')
           - clm.model_parameter(gg, 'gamma') * exp(clm.model_parameter(gg, 'spend.web'))) < 1e-9 AS gamma_i
FROM fits;

-- predictions with covariates = predictions of the customer's own model
SELECT clm.p_alive(bg, '{1,0}', 2, 30, 52) = clm.p_alive(clm.model_for(bg, '{1,0}'), 2, 30, 52) AS p_alive,
       clm.churn_probability(bg, '{1,0}', 2, 30, 52) = clm.churn_probability(clm.model_for(bg, '{1,0}'), 2, 30, 52) AS churn,
       clm.expected_purchases(bg, '{0,1}', 52, 2, 30, 52) = clm.expected_purchases(clm.model_for(bg, '{0,1}'), 52, 2, 30, 52) AS expected,
       clm.expected_spend(gg, '{1,1}', 3, 40) = clm.expected_spend(clm.model_for(gg, '{1,1}'), 3, 40) AS spend,
       clm.clv(bg, '{1,1}', 12, 0.01, 0.3, 40, 2, 30, 52) = clm.clv(clm.model_for(bg, '{1,1}'), 12, 0.01, 0.3, 40, 2, 30, 52) AS clv
FROM fits;

-- each group's mean repeat purchases against the fitted mean, the E[X(T)]
-- of a new customer of the group at each customer's age T (the model
-- without covariates fits one mean for all four)
SELECT g.web, g.de, count(*) AS customers,
       round(avg((clm.btyd_inputs(p, '2025-01-01', 'week')).x)::numeric, 3) AS mean_x,
       round(avg(clm.new_customer_purchases(clm.model_for(f.bg, ARRAY[g.web, g.de]), (clm.btyd_inputs(p, '2025-01-01', 'week')).t))::numeric, 3) AS fitted
FROM prof JOIN grp g ON (prof.web, prof.de) = (g.web, g.de), fits f
GROUP BY g.web, g.de ORDER BY 1, 2;

-- Pareto/NBD: alpha_i = 10 exp(-0.5 web), beta_i = 20 exp(-0.7 web), r = 0.75, s = 0.6
CREATE TABLE evp AS
  SELECT e.*, s.web FROM grp s,
    LATERAL clm.generate_events(5000, 17 + s.g, '2023-01-01', '2025-01-01', 365,
      r => 0.75, alpha => 10 * exp(-0.5 * s.web), s => 0.6, beta => 20 * exp(-0.7 * s.web),
      dropout => 'paretonbd', first_customer => s.g * 5000 + 1, prospect_share => 0) e
  WHERE s.de = 0;
CREATE TABLE profp AS
  SELECT customer_id, min(web) AS web, clm.profile(occurred_at, amount) FILTER (WHERE event_type = 'purchase') AS p
  FROM evp GROUP BY customer_id;
CREATE TABLE fitp AS
  SELECT clm.paretonbd_fit(p, '2025-01-01', 'week', ARRAY[web], '{web}') AS m FROM profp;
SELECT name, round(truth::numeric, 3) AS truth, round(value::numeric, 3) AS estimate,
       abs(value - truth) <= 3 * se AS within_3_se
FROM (SELECT n AS name, v AS value, s AS se
        FROM fitp, unnest((clm.model_info(m)).parameter_names, (clm.model_info(m)).parameters, (clm.model_info(m)).std_errors) AS u(n, v, s)
      UNION ALL
      SELECT process || '.' || covariate, effect, std_error FROM fitp, clm.model_covariates(m)) e
JOIN (VALUES ('r', 0.75), ('alpha', 10), ('s', 0.6), ('beta', 20), ('trans.web', 0.5), ('life.web', 0.7)) AS t(name, truth) USING (name)
ORDER BY name;
SELECT abs(clm.model_parameter(clm.model_for(m, '{1}'), 'beta')
           - clm.model_parameter(m, 'beta') * exp(-clm.model_parameter(m, 'life.web'))) < 1e-9 AS beta_i
FROM fitp;

-- covariates that are all zero give the fit without covariates, to the
-- last digit (with a warning for each covariate left out)
CREATE TABLE zero AS
  SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', '{0,0}', '{u,v}') AS m FROM prof;
SELECT (clm.model_info(m)).parameters = (clm.model_info(bg0)).parameters AS same_parameters,
       (clm.model_info(m)).std_errors = (clm.model_info(bg0)).std_errors AS same_std_errors,
       (clm.model_info(m)).log_likelihood = (clm.model_info(bg0)).log_likelihood AS same_loglik,
       clm.p_alive(m, '{0,0}', 2, 30, 52) = clm.p_alive(bg0, 2, 30, 52) AS same_p_alive
FROM zero, fits;
-- no covariates at all: the fit without them, a model without covariates
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', '{}', '{}')::text = (SELECT bg0::text FROM fits) AS same_model
FROM prof;
-- a constant covariate, and one collinear with another, are left out
SELECT covariate, process, effect, std_error
FROM (SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, 1, 1 - web], '{web,one,not_web}') AS m FROM prof) f,
     clm.model_covariates(m) ORDER BY process DESC, position;

-- parallel = serial: the combine function merges the workers' histograms
-- into the same distinct rows, so the same model to the bit
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
  SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,de}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,de}')::text = (SELECT bg::text FROM fits) AS parallel_equals_serial,
       clm.gg_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,de}')::text = (SELECT gg::text FROM fits) AS gg_parallel_equals_serial
FROM prof;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- the stored format: a model with covariates is format 2 and round-trips
-- through its text form; models without covariates keep format 1 (the
-- text form of 0.1 and 0.2)
SELECT bg::text::clm.model::text = bg::text AS text_round_trip,
       position(' covariates=web,de trans.web=' IN bg::text) > 0 AS has_covariates,
       bg0::text NOT LIKE '%covariates%' AS plain_unchanged
FROM fits;
CREATE TABLE stored (m clm.model);
INSERT INTO stored SELECT bg FROM fits;
INSERT INTO stored SELECT bg0 FROM fits;
SELECT count(*) FILTER (WHERE m::text = f.bg::text OR m::text = f.bg0::text) AS stored_equal FROM stored, fits f;
-- binary round trip
COPY stored TO '/tmp/clm_test_covariates.bin' WITH (FORMAT binary);
CREATE TABLE stored2 (m clm.model);
COPY stored2 FROM '/tmp/clm_test_covariates.bin' WITH (FORMAT binary);
SELECT array_agg(s2.m::text ORDER BY s2.m::text) = array_agg(s.m::text ORDER BY s.m::text) AS binary_round_trip
FROM (SELECT m, row_number() OVER () AS i FROM stored2) s2 JOIN (SELECT m, row_number() OVER () AS i FROM stored) s USING (i);
-- a model written by hand in the text form
SELECT clm.p_alive('bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web trans.web=0.5 life.web=0'::clm.model, '{1}', 2, 30, 52)
       = clm.p_alive(clm.make_model('bgnbd', ARRAY[0.5, 10 * exp(-0.5), 0.8, 2.5]), 2, 30, 52) AS by_hand;
-- the histogram's text form (sorted, repeats summed) round-trips and feeds
-- the final function
SELECT 'bgnbd(z):2,30,52,3,1;0,0,52,1,0'::clm.cov_histogram::text AS histogram;
SELECT 'gg(z):2,30,0,3,1;2,30,0,1,1'::clm.cov_histogram::text::clm.cov_histogram::text AS gg_histogram;
CREATE TABLE inputs AS
  SELECT i.x, i.t_x, i.t, web, de FROM prof, clm.btyd_inputs(p, '2025-01-01', 'week') i WHERE i.t > 0;
SET extra_float_digits = 1;
SELECT clm.bgnbd_cov_fit_final(('bgnbd(web,de):' || string_agg(format('%s,%s,%s,1,%s,%s', x, t_x, t, web, de), ';'))::clm.cov_histogram)::text
       = (SELECT bg::text FROM fits) AS text_state_same_fit,
       clm.bgnbd_fit(x, t_x, t, ARRAY[web, de], '{web,de}')::text = (SELECT bg::text FROM fits) AS value_fit_same
FROM inputs;
SET extra_float_digits = 0;

-- bad input: precise errors
\set VERBOSITY sqlstate
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web], '{web,de}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', NULL, '{web}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, NULL], '{web,de}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web], NULL) FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY['NaN'::float8], '{web}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY['Infinity'::float8], '{web}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[1e16], '{web}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web], ARRAY[CASE WHEN customer_id = 7 THEN 'x' ELSE 'web' END]) FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web, de], '{web,web}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web], '{"web channel"}') FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[web], ARRAY[NULL::text]) FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', array_fill(web, ARRAY[11]),
       (SELECT array_agg('z' || i) FROM generate_series(1, 11) i)) FROM prof;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', ARRAY[[web]], '{web}') FROM prof;
SELECT clm.p_alive(bg, 2, 30, 52) FROM fits;
SELECT clm.next_purchase(bg, 4, 2, 30, 52) FROM fits;
SELECT clm.p_alive(bg, '{1}', 2, 30, 52) FROM fits;
SELECT clm.p_alive(bg, '{1,NULL}', 2, 30, 52) FROM fits;
SELECT clm.p_alive(bg, '{1,NaN}', 2, 30, 52) FROM fits;
SELECT clm.p_alive(bg0, '{1}', 2, 30, 52) FROM fits;
SELECT clm.model_for(bg, '{1e300,0}') FROM fits;
SELECT clm.model_for(bg0, '{}')::text = bg0::text AS plain_model_for FROM fits;
SELECT 'bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web trans.web=0.5'::clm.model;
SELECT 'bgnbd r=0.5 alpha=10 a=0.8 b=2.5 trans.web=0.5'::clm.model;
SELECT 'bgbb alpha=1 beta=1 gamma=1 delta=1 covariates=web'::clm.model;
SELECT 'bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web,web trans.web=0 life.web=0'::clm.model;
SELECT 'bgnbd r=0.5 alpha=10 a=0.8 b=2.5 covariates=web trans.web=Infinity life.web=0'::clm.model;
SELECT 'bgnbd(z):2,30,52,3'::clm.cov_histogram;
SELECT 'bgnbd(z):2,30,52,3,NaN'::clm.cov_histogram;
SELECT 'bgbb(z):2,3,5,1,0'::clm.cov_histogram;
SELECT 'bgnbd(1z):2,30,52,3,1'::clm.cov_histogram;
SELECT 'gg(z):2,30,5,3,1'::clm.cov_histogram;
-- the transition and combine functions outside an aggregate, and a user's
-- aggregate with a crafted initial state
SELECT clm.bgnbd_cov_trans(NULL, 1, 2, 3, '{1}', '{z}');
SELECT clm.cov_histogram_merge('bgnbd(z):1,2,3,1,0', 'bgnbd(z):1,2,3,1,0');
CREATE AGGREGATE crafted(float8, float8, float8, float8[], text[]) (
  SFUNC = clm.paretonbd_cov_trans, STYPE = clm.cov_histogram, INITCOND = 'bgnbd(z):1,2,3,1,0');
SELECT crafted(1, 2, 3, '{1}', '{z}');
CREATE AGGREGATE crafted2(float8, float8, float8, float8[], text[]) (
  SFUNC = clm.bgnbd_cov_trans, STYPE = clm.cov_histogram, INITCOND = 'bgnbd(y):1,2,3,1,0');
SELECT crafted2(1, 2, 3, '{1}', '{z}');
\set VERBOSITY default
SELECT clm.p_alive(bg, 2, 30, 52) FROM fits;
SELECT clm.p_alive(bg, '{1}', 2, 30, 52) FROM fits;
SELECT clm.bgnbd_fit(p, '2025-01-01', 'week', NULL, '{web}') FROM prof;

DROP SCHEMA test_covariates CASCADE;
