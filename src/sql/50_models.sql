-- CLV and churn models: histogram state type, model type, fit aggregates,
-- predictions and score metrics (src/models.c, src/core/clm_*.c).

CREATE TYPE @extschema@.model_histogram;

CREATE FUNCTION @extschema@.model_histogram_in(cstring) RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_out(@extschema@.model_histogram) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clm_model_histogram_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_recv(internal) RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_send(@extschema@.model_histogram) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clm_model_histogram_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.model_histogram (
	INPUT = @extschema@.model_histogram_in,
	OUTPUT = @extschema@.model_histogram_out,
	RECEIVE = @extschema@.model_histogram_recv,
	SEND = @extschema@.model_histogram_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.model_histogram IS 'state of the model fit aggregates: weighted distinct input tuples, text form kind:v1,v2,v3,weight;...';
COMMENT ON FUNCTION @extschema@.model_histogram_in(cstring) IS 'text input of clm.model_histogram';
COMMENT ON FUNCTION @extschema@.model_histogram_out(@extschema@.model_histogram) IS 'text output of clm.model_histogram (sorted, distinct, exact floats)';
COMMENT ON FUNCTION @extschema@.model_histogram_recv(internal) IS 'binary input of clm.model_histogram';
COMMENT ON FUNCTION @extschema@.model_histogram_send(@extschema@.model_histogram) IS 'binary output of clm.model_histogram';

CREATE TYPE @extschema@.model;

CREATE FUNCTION @extschema@.model_in(cstring) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_out(@extschema@.model) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clm_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_recv(internal) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_send(@extschema@.model) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clm_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.model (
	INPUT = @extschema@.model_in,
	OUTPUT = @extschema@.model_out,
	RECEIVE = @extschema@.model_recv,
	SEND = @extschema@.model_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = main
);
COMMENT ON TYPE @extschema@.model IS 'a fitted CLV or churn model: kind, parameters, standard errors, log-likelihood, customers, convergence';
COMMENT ON FUNCTION @extschema@.model_in(cstring) IS 'text input of clm.model: kind name=value ... message=''...''';
COMMENT ON FUNCTION @extschema@.model_out(@extschema@.model) IS 'text output of clm.model (exact floats, round-trips through pg_dump)';
COMMENT ON FUNCTION @extschema@.model_recv(internal) IS 'binary input of clm.model';
COMMENT ON FUNCTION @extschema@.model_send(@extschema@.model) IS 'binary output of clm.model';

CREATE FUNCTION @extschema@.make_model(kind text, parameters float8[]) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_make' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.make_model(text, float8[]) IS 'a model of the given kind from known parameters (in the order of clm.model_info().parameter_names)';

CREATE FUNCTION @extschema@.model_info(model @extschema@.model,
	OUT kind text, OUT parameter_names text[], OUT parameters float8[], OUT std_errors float8[],
	OUT log_likelihood float8, OUT n_customers float8, OUT n_distinct integer,
	OUT converged boolean, OUT iterations integer, OUT message text)
	AS 'MODULE_PATHNAME', 'clm_model_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_info(@extschema@.model) IS 'the model as a row: kind, parameter names, values and standard errors, log-likelihood, customers, distinct inputs, convergence';

CREATE FUNCTION @extschema@.model_parameter(model @extschema@.model, name text) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_model_parameter' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_parameter(@extschema@.model, text) IS 'one parameter of a model by name (r, alpha, a, b, s, beta, p, q, gamma, delta), or a covariate effect as process.covariate (trans.web)';

CREATE FUNCTION @extschema@.model_histogram_merge(@extschema@.model_histogram, @extschema@.model_histogram)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_histogram_merge(@extschema@.model_histogram, @extschema@.model_histogram) IS 'combine function of the fit aggregates: merge of two histograms';

-- transition functions (not strict: rows with a NULL input are skipped)
CREATE FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_trans(@extschema@.model_histogram, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.scores_trans(@extschema@.model_histogram, float8, boolean)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_scores_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.bgnbd_fit';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.mbgnbd_fit';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.paretonbd_fit';
COMMENT ON FUNCTION @extschema@.gg_fit_trans(@extschema@.model_histogram, float8, float8) IS 'transition function of clm.gg_fit (rows with x = 0 are skipped)';
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.bgbb_fit';
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8, float8) IS 'transition function of clm.bgbb_fit with a weight';
COMMENT ON FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean) IS 'transition function of clm.sbg_fit';
COMMENT ON FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean, float8) IS 'transition function of clm.sbg_fit with a weight';
COMMENT ON FUNCTION @extschema@.scores_trans(@extschema@.model_histogram, float8, boolean) IS 'transition function of clm.roc_auc and clm.brier_score';

-- final functions
CREATE FUNCTION @extschema@.bgnbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_gg_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.roc_auc_final(@extschema@.model_histogram) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_roc_auc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.brier_score_final(@extschema@.model_histogram) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_brier_score_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.bgnbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.mbgnbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.paretonbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.gg_fit_final(@extschema@.model_histogram) IS 'final function of clm.gg_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.bgbb_fit_final(@extschema@.model_histogram) IS 'final function of clm.bgbb_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.sbg_fit_final(@extschema@.model_histogram) IS 'final function of clm.sbg_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.roc_auc_final(@extschema@.model_histogram) IS 'final function of clm.roc_auc';
COMMENT ON FUNCTION @extschema@.brier_score_final(@extschema@.model_histogram) IS 'final function of clm.brier_score';

-- fit aggregates
CREATE AGGREGATE @extschema@.bgnbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.bgnbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.mbgnbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.mbgnbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.mbgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.paretonbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.paretonbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(x float8, mean_spend float8) (
	SFUNC = @extschema@.gg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.gg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
-- the same fits reading profiles directly: (profile, calibration_end, unit)
CREATE FUNCTION @extschema@.bgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.bgnbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.mbgnbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.paretonbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.gg_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.gg_fit over profiles';
CREATE AGGREGATE @extschema@.bgnbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.bgnbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.mbgnbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.mbgnbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.mbgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.paretonbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.paretonbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.gg_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.gg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(@extschema@.profile, date, text) IS 'fit a BG/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit (day, week, month): clm.bgnbd_fit over clm.btyd_inputs, without the intermediate row; customers with no purchase by then are skipped';
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(@extschema@.profile, date, text) IS 'fit an MBG/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(@extschema@.profile, date, text) IS 'fit a Pareto/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit';
COMMENT ON AGGREGATE @extschema@.gg_fit(@extschema@.profile, date, text) IS 'fit a Gamma-Gamma spend model to the profiles'' (x, mean repeat spend) at calibration_end; customers with no repeat purchase or a non-positive mean repeat spend are skipped (unit is not used by the model)';
CREATE AGGREGATE @extschema@.bgbb_fit(x float8, t_x float8, n float8) (
	SFUNC = @extschema@.bgbb_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgbb_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.bgbb_fit(x float8, t_x float8, n float8, weight float8) (
	SFUNC = @extschema@.bgbb_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgbb_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sbg_fit(periods float8, churned boolean) (
	SFUNC = @extschema@.sbg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.sbg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sbg_fit(periods float8, churned boolean, weight float8) (
	SFUNC = @extschema@.sbg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.sbg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.roc_auc(probability float8, outcome boolean) (
	SFUNC = @extschema@.scores_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.roc_auc_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.brier_score(probability float8, outcome boolean) (
	SFUNC = @extschema@.scores_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.brier_score_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(float8, float8, float8) IS 'fit a BG/NBD model (Fader, Hardie and Lee 2005) to (x repeat purchases, recency t_x, age T), any one time unit';
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(float8, float8, float8) IS 'fit an MBG/NBD model (Batislam et al. 2007) to (x, t_x, T)';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(float8, float8, float8) IS 'fit a Pareto/NBD model (Schmittlein et al. 1987) to (x, t_x, T)';
COMMENT ON AGGREGATE @extschema@.gg_fit(float8, float8) IS 'fit a Gamma-Gamma spend model (Fader, Hardie and Lee 2005) to (x, mean repeat spend); rows with x = 0 are skipped';
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8) IS 'fit a BG/BB model (Fader, Hardie and Shang 2010) to (x transactions, last opportunity t_x, opportunities n)';
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8, float8) IS 'fit a BG/BB model to weighted (x, t_x, n) patterns';
COMMENT ON AGGREGATE @extschema@.sbg_fit(float8, boolean) IS 'fit a shifted-beta-geometric churn model (Fader and Hardie 2007) to (periods, churned): churned in period t, or active after t periods';
COMMENT ON AGGREGATE @extschema@.sbg_fit(float8, boolean, float8) IS 'fit an sBG model to weighted (periods, churned) rows';
COMMENT ON AGGREGATE @extschema@.roc_auc(float8, boolean) IS 'ROC AUC of churn probabilities against observed churn (ties count one half)';
COMMENT ON AGGREGATE @extschema@.brier_score(float8, boolean) IS 'Brier score: mean squared difference of probabilities and observed outcomes (0/1)';

-- predictions
CREATE FUNCTION @extschema@.p_alive(model @extschema@.model, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_alive_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.model, float8, float8, float8) IS 'probability that the customer is alive at T (bgnbd, mbgnbd, paretonbd; bgbb: at opportunity n+1 with T = n)';
CREATE FUNCTION @extschema@.churn_probability(model @extschema@.model, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_churn_probability_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_probability(@extschema@.model, float8, float8, float8) IS '1 - p_alive';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.model, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_expected_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.model, float8, float8, float8, float8) IS 'expected purchases in the next t time units (bgbb: t opportunities) given x, t_x, T';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.model, n integer, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.model, integer, float8, float8, float8, float8) IS 'probability of exactly n purchases in the next t given x, t_x, T (bgnbd, mbgnbd, paretonbd)';
CREATE FUNCTION @extschema@.p_no_purchase(model @extschema@.model, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_no_purchase_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_no_purchase(@extschema@.model, float8, float8, float8, float8) IS 'probability of no purchase in the next t given x, t_x, T (bgnbd, mbgnbd, paretonbd)';
CREATE FUNCTION @extschema@.expected_spend(model @extschema@.model, x float8, mean_spend float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_expected_spend_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.model, float8, float8) IS 'Gamma-Gamma conditional expected spend per transaction given x repeat purchases of mean value mean_spend';
CREATE FUNCTION @extschema@.clv(model @extschema@.model, horizon integer, discount_rate float8, margin float8,
	spend float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_clv_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.model, integer, float8, float8, float8, float8, float8, float8) IS 'margin * spend * sum over periods k = 1..horizon (one time unit each) of the purchases expected in period k / (1 + discount_rate)^k';
CREATE FUNCTION @extschema@.discounted_expected_transactions(model @extschema@.model, continuous_rate float8,
	x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_dert_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.discounted_expected_transactions(@extschema@.model, float8, float8, float8, float8) IS 'Pareto/NBD DERT (Fader, Hardie and Lee 2005): expected future transactions discounted continuously at the given rate per time unit, infinite horizon';
CREATE FUNCTION @extschema@.survival(model @extschema@.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_survival_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival(@extschema@.model, float8) IS 'sBG: share of a cohort still active after t periods';
CREATE FUNCTION @extschema@.retention_rate(model @extschema@.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_retention_rate_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_rate(@extschema@.model, float8) IS 'sBG: probability that a customer active in period t-1 renews for period t';
