-- Static covariates of the BG/NBD, Pareto/NBD and Gamma-Gamma fits
-- (src/model_cov_hist.c, src/model_cov.c, src/core/clm_cov.c): the state
-- type, the fit aggregates taking a covariate vector per customer, a
-- customer's own model and the predictions that take the covariates.

CREATE TYPE @extschema@.cov_histogram;

CREATE FUNCTION @extschema@.cov_histogram_in(cstring) RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_cov_histogram_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cov_histogram_out(@extschema@.cov_histogram) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clm_cov_histogram_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cov_histogram_recv(internal) RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_cov_histogram_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.cov_histogram_send(@extschema@.cov_histogram) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clm_cov_histogram_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.cov_histogram (
	INPUT = @extschema@.cov_histogram_in,
	OUTPUT = @extschema@.cov_histogram_out,
	RECEIVE = @extschema@.cov_histogram_recv,
	SEND = @extschema@.cov_histogram_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.cov_histogram IS 'state of the model fits with covariates: weighted distinct (inputs, covariates) rows, text form kind(name,...):x,t_x,T,weight,z1,...;...';
COMMENT ON FUNCTION @extschema@.cov_histogram_in(cstring) IS 'text input of clm.cov_histogram';
COMMENT ON FUNCTION @extschema@.cov_histogram_out(@extschema@.cov_histogram) IS 'text output of clm.cov_histogram (sorted, distinct, exact floats)';
COMMENT ON FUNCTION @extschema@.cov_histogram_recv(internal) IS 'binary input of clm.cov_histogram';
COMMENT ON FUNCTION @extschema@.cov_histogram_send(@extschema@.cov_histogram) IS 'binary output of clm.cov_histogram';

CREATE FUNCTION @extschema@.cov_histogram_merge(@extschema@.cov_histogram, @extschema@.cov_histogram)
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_cov_histogram_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.cov_histogram_merge(@extschema@.cov_histogram, @extschema@.cov_histogram) IS 'combine function of the fits with covariates: merge of two histograms';

-- transition functions (not strict: rows with a NULL input are skipped; NULL covariates are an error)
CREATE FUNCTION @extschema@.bgnbd_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_cov_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_cov_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_cov_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgnbd_cov_trans(@extschema@.cov_histogram, float8, float8, float8, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_cov_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_cov_trans(@extschema@.cov_histogram, float8, float8, float8, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_cov_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_cov_trans(@extschema@.cov_histogram, float8, float8, float8[], text[])
	RETURNS @extschema@.cov_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_cov_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[]) IS 'transition function of clm.bgnbd_fit over profiles with covariates';
COMMENT ON FUNCTION @extschema@.paretonbd_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[]) IS 'transition function of clm.paretonbd_fit over profiles with covariates';
COMMENT ON FUNCTION @extschema@.gg_cov_profile_trans(@extschema@.cov_histogram, @extschema@.profile, date, text, float8[], text[]) IS 'transition function of clm.gg_fit over profiles with covariates';
COMMENT ON FUNCTION @extschema@.bgnbd_cov_trans(@extschema@.cov_histogram, float8, float8, float8, float8[], text[]) IS 'transition function of clm.bgnbd_fit over (x, t_x, T) with covariates';
COMMENT ON FUNCTION @extschema@.paretonbd_cov_trans(@extschema@.cov_histogram, float8, float8, float8, float8[], text[]) IS 'transition function of clm.paretonbd_fit over (x, t_x, T) with covariates';
COMMENT ON FUNCTION @extschema@.gg_cov_trans(@extschema@.cov_histogram, float8, float8, float8[], text[]) IS 'transition function of clm.gg_fit over (x, mean_spend) with covariates (rows with x = 0 are skipped)';

CREATE FUNCTION @extschema@.bgnbd_cov_fit_final(@extschema@.cov_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_bgnbd_cov_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_cov_fit_final(@extschema@.cov_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_paretonbd_cov_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_cov_fit_final(@extschema@.cov_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_gg_cov_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_cov_fit_final(@extschema@.cov_histogram) IS 'final function of clm.bgnbd_fit with covariates: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.paretonbd_cov_fit_final(@extschema@.cov_histogram) IS 'final function of clm.paretonbd_fit with covariates: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.gg_cov_fit_final(@extschema@.cov_histogram) IS 'final function of clm.gg_fit with covariates: the maximum-likelihood fit';

CREATE AGGREGATE @extschema@.bgnbd_fit(p @extschema@.profile, calibration_end date, unit text,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.bgnbd_cov_profile_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.bgnbd_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(p @extschema@.profile, calibration_end date, unit text,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.paretonbd_cov_profile_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.paretonbd_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(p @extschema@.profile, calibration_end date, unit text,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.gg_cov_profile_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.gg_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.bgnbd_fit(x float8, t_x float8, "T" float8,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.bgnbd_cov_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.bgnbd_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(x float8, t_x float8, "T" float8,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.paretonbd_cov_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.paretonbd_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(x float8, mean_spend float8,
	covariates float8[], covariate_names text[]) (
	SFUNC = @extschema@.gg_cov_trans, STYPE = @extschema@.cov_histogram,
	FINALFUNC = @extschema@.gg_cov_fit_final, COMBINEFUNC = @extschema@.cov_histogram_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(@extschema@.profile, date, text, float8[], text[]) IS 'fit a BG/NBD model with static covariates (one vector per customer, the same names on every row): alpha_i = alpha exp(-trans''z), a_i = a exp(life''z), b_i = b exp(life''z); docs/models.md, Covariates';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(@extschema@.profile, date, text, float8[], text[]) IS 'fit a Pareto/NBD model with static covariates: alpha_i = alpha exp(-trans''z), beta_i = beta exp(-life''z); docs/models.md, Covariates';
COMMENT ON AGGREGATE @extschema@.gg_fit(@extschema@.profile, date, text, float8[], text[]) IS 'fit a Gamma-Gamma spend model with static covariates: gamma_i = gamma exp(spend''z); docs/models.md, Covariates';
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(float8, float8, float8, float8[], text[]) IS 'fit a BG/NBD model with static covariates to (x, t_x, T, covariates, covariate_names)';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(float8, float8, float8, float8[], text[]) IS 'fit a Pareto/NBD model with static covariates to (x, t_x, T, covariates, covariate_names)';
COMMENT ON AGGREGATE @extschema@.gg_fit(float8, float8, float8[], text[]) IS 'fit a Gamma-Gamma spend model with static covariates to (x, mean_spend, covariates, covariate_names); rows with x = 0 are skipped';

CREATE FUNCTION @extschema@.model_for(model @extschema@.model, covariates float8[]) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_for' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_for(@extschema@.model, float8[]) IS 'the model of one customer with these covariates (in the order of clm.model_covariates): a model without covariates, with the customer''s own parameters, for any prediction';

CREATE FUNCTION @extschema@.model_covariates(model @extschema@.model,
	OUT "position" integer, OUT covariate text, OUT process text, OUT parameters text[],
	OUT effect float8, OUT std_error float8)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'clm_model_covariates' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.model_covariates(@extschema@.model) IS 'the covariate effects of a model, one row per process and covariate: position of the covariate, its name, the process (trans, life, spend), the parameters it scales, the effect and its standard error (NULL when left out of the fit or not estimated); no rows for a model without covariates';

-- the predictions of a model with covariates, for one customer
CREATE FUNCTION @extschema@.p_alive(model @extschema@.model, covariates float8[], x float8, t_x float8, "T" float8)
	RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT @extschema@.p_alive(@extschema@.model_for(p_alive.model, p_alive.covariates), p_alive.x, p_alive.t_x, p_alive."T");
	END;
CREATE FUNCTION @extschema@.churn_probability(model @extschema@.model, covariates float8[], x float8, t_x float8, "T" float8)
	RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT @extschema@.churn_probability(@extschema@.model_for(churn_probability.model, churn_probability.covariates),
		churn_probability.x, churn_probability.t_x, churn_probability."T");
	END;
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.model, covariates float8[], t float8, x float8, t_x float8, "T" float8)
	RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT @extschema@.expected_purchases(@extschema@.model_for(expected_purchases.model, expected_purchases.covariates),
		expected_purchases.t, expected_purchases.x, expected_purchases.t_x, expected_purchases."T");
	END;
CREATE FUNCTION @extschema@.expected_spend(model @extschema@.model, covariates float8[], x float8, mean_spend float8)
	RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT @extschema@.expected_spend(@extschema@.model_for(expected_spend.model, expected_spend.covariates),
		expected_spend.x, expected_spend.mean_spend);
	END;
CREATE FUNCTION @extschema@.clv(model @extschema@.model, covariates float8[], horizon integer, discount_rate float8,
	margin float8, spend float8, x float8, t_x float8, "T" float8)
	RETURNS float8 LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT @extschema@.clv(@extschema@.model_for(clv.model, clv.covariates), clv.horizon, clv.discount_rate,
		clv.margin, clv.spend, clv.x, clv.t_x, clv."T");
	END;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.model, float8[], float8, float8, float8) IS 'P(alive) of a customer with these covariates: clm.p_alive(clm.model_for(model, covariates), x, t_x, T)';
COMMENT ON FUNCTION @extschema@.churn_probability(@extschema@.model, float8[], float8, float8, float8) IS '1 - P(alive) of a customer with these covariates';
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.model, float8[], float8, float8, float8, float8) IS 'expected purchases in the next t of a customer with these covariates';
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.model, float8[], float8, float8) IS 'Gamma-Gamma expected spend per transaction of a customer with these covariates';
COMMENT ON FUNCTION @extschema@.clv(@extschema@.model, float8[], integer, float8, float8, float8, float8, float8, float8) IS 'CLV of a customer with these covariates (the purchase model''s covariates; the spend is given): clm.clv(clm.model_for(model, covariates), ...)';
