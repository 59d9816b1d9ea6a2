-- Prediction intervals (src/model_interval.c, src/core/clm_interval.c;
-- docs/models.md, "Prediction intervals").  New in 0.3:
-- src/upgrade/0.2--0.3/40_intervals.sql is a link to this file.

CREATE TYPE @extschema@.prediction_interval AS (estimate float8, lower float8, upper float8);
COMMENT ON TYPE @extschema@.prediction_interval IS 'a prediction with its interval: the estimate (at the fitted parameters) and the lower and upper bounds at the level asked for';

CREATE FUNCTION @extschema@.model_correlations(model @extschema@.model) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_model_correlations' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_correlations(@extschema@.model) IS 'the correlations of the model''s parameters (of their logarithms, from the fit''s Hessian) as a matrix in the order of clm.model_info().parameter_names: 1 on the diagonal, NULL where not known (models fitted by clm 0.2 or earlier, made from parameters)';

CREATE FUNCTION @extschema@.expected_purchases_interval(model @extschema@.model, t float8,
	x float8, t_x float8, "T" float8, level float8 DEFAULT 0.9) RETURNS @extschema@.prediction_interval
	AS 'MODULE_PATHNAME', 'clm_expected_purchases_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_interval(@extschema@.model, float8, float8, float8, float8, float8) IS 'expected purchases in the next t (bgnbd, mbgnbd, paretonbd) and the interval of the purchase count at level: the equal-tailed quantiles of its predictive distribution (the count given the parameters, mixed over their uncertainty); a count is whole, so the interval holds at least level of the probability';

CREATE FUNCTION @extschema@.p_alive_interval(model @extschema@.model, x float8, t_x float8, "T" float8,
	level float8 DEFAULT 0.9) RETURNS @extschema@.prediction_interval
	AS 'MODULE_PATHNAME', 'clm_p_alive_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive_interval(@extschema@.model, float8, float8, float8, float8) IS 'P(alive) and its interval at level from the uncertainty of the parameters (normal on the logit scale)';

CREATE FUNCTION @extschema@.expected_spend_interval(model @extschema@.model, x float8, mean_spend float8,
	level float8 DEFAULT 0.9) RETURNS @extschema@.prediction_interval
	AS 'MODULE_PATHNAME', 'clm_expected_spend_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend_interval(@extschema@.model, float8, float8, float8) IS 'Gamma-Gamma expected spend per transaction and the interval at level of the customer''s mean spend per transaction (its posterior given x and mean_spend, mixed over the uncertainty of the parameters)';

CREATE FUNCTION @extschema@.clv_interval(model @extschema@.model, horizon integer, discount_rate float8,
	margin float8, spend float8, x float8, t_x float8, "T" float8, level float8 DEFAULT 0.9)
	RETURNS @extschema@.prediction_interval
	AS 'MODULE_PATHNAME', 'clm_clv_interval' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv_interval(@extschema@.model, integer, float8, float8, float8, float8, float8, float8, float8) IS 'clm.clv and its interval at level from the uncertainty of the parameters (normal on the log scale): an interval of the expected value, without the variance of the purchases';

-- sums over customers: aggregates on a float8[] state (see model_interval.c)
CREATE FUNCTION @extschema@.expected_purchases_total_trans(float8[], @extschema@.model,
	float8, float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_expected_purchases_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.expected_purchases_total_trans(float8[], @extschema@.model,
	float8, float8, float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_expected_purchases_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.alive_customers_total_trans(float8[], @extschema@.model,
	float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_alive_customers_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.alive_customers_total_trans(float8[], @extschema@.model,
	float8, float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_alive_customers_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.clv_total_trans(float8[], @extschema@.model, integer,
	float8, float8, float8, float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_clv_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.clv_total_trans(float8[], @extschema@.model, integer,
	float8, float8, float8, float8, float8, float8, float8) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_clv_total_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.interval_total_combine(float8[], float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'clm_interval_total_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.interval_total_final(float8[]) RETURNS @extschema@.prediction_interval
	AS 'MODULE_PATHNAME', 'clm_interval_total_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases_total_trans(float8[], @extschema@.model, float8, float8, float8, float8) IS 'transition function of clm.expected_purchases_total';
COMMENT ON FUNCTION @extschema@.expected_purchases_total_trans(float8[], @extschema@.model, float8, float8, float8, float8, float8) IS 'transition function of clm.expected_purchases_total with a level';
COMMENT ON FUNCTION @extschema@.alive_customers_total_trans(float8[], @extschema@.model, float8, float8, float8) IS 'transition function of clm.alive_customers_total';
COMMENT ON FUNCTION @extschema@.alive_customers_total_trans(float8[], @extschema@.model, float8, float8, float8, float8) IS 'transition function of clm.alive_customers_total with a level';
COMMENT ON FUNCTION @extschema@.clv_total_trans(float8[], @extschema@.model, integer, float8, float8, float8, float8, float8, float8) IS 'transition function of clm.clv_total';
COMMENT ON FUNCTION @extschema@.clv_total_trans(float8[], @extschema@.model, integer, float8, float8, float8, float8, float8, float8, float8) IS 'transition function of clm.clv_total with a level';
COMMENT ON FUNCTION @extschema@.interval_total_combine(float8[], float8[]) IS 'combine function of the prediction interval sums: the sums of two states of the same model, arguments and level';
COMMENT ON FUNCTION @extschema@.interval_total_final(float8[]) IS 'final function of the prediction interval sums: the estimate and the interval of the sum';

CREATE AGGREGATE @extschema@.expected_purchases_total(model @extschema@.model, t float8,
	x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.expected_purchases_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.expected_purchases_total(model @extschema@.model, t float8,
	x float8, t_x float8, "T" float8, level float8) (
	SFUNC = @extschema@.expected_purchases_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.alive_customers_total(model @extschema@.model, x float8,
	t_x float8, "T" float8) (
	SFUNC = @extschema@.alive_customers_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.alive_customers_total(model @extschema@.model, x float8,
	t_x float8, "T" float8, level float8) (
	SFUNC = @extschema@.alive_customers_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.clv_total(model @extschema@.model, horizon integer, discount_rate float8,
	margin float8, spend float8, x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.clv_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.clv_total(model @extschema@.model, horizon integer, discount_rate float8,
	margin float8, spend float8, x float8, t_x float8, "T" float8, level float8) (
	SFUNC = @extschema@.clv_total_trans, STYPE = float8[],
	FINALFUNC = @extschema@.interval_total_final, COMBINEFUNC = @extschema@.interval_total_combine,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.expected_purchases_total(@extschema@.model, float8, float8, float8, float8) IS 'the purchases of all the customers in the next t and the 90% interval of their total: the counts are independent given the parameters (means and variances add), the parameters shared by all customers; every row must have the same model and t; rows with a NULL are skipped';
COMMENT ON AGGREGATE @extschema@.expected_purchases_total(@extschema@.model, float8, float8, float8, float8, float8) IS 'clm.expected_purchases_total at a level (the same in every row)';
COMMENT ON AGGREGATE @extschema@.alive_customers_total(@extschema@.model, float8, float8, float8) IS 'the expected number of customers alive (the sum of P(alive)) and the 90% interval of the number alive (a sum of independent Bernoulli given the parameters, the parameters shared); rows with a NULL are skipped';
COMMENT ON AGGREGATE @extschema@.alive_customers_total(@extschema@.model, float8, float8, float8, float8) IS 'clm.alive_customers_total at a level (the same in every row)';
COMMENT ON AGGREGATE @extschema@.clv_total(@extschema@.model, integer, float8, float8, float8, float8, float8, float8) IS 'the sum of clm.clv over the customers and its 90% interval from the uncertainty of the parameters (an interval of the expected value); every row must have the same model, horizon and discount rate; rows with a NULL are skipped';
COMMENT ON AGGREGATE @extschema@.clv_total(@extschema@.model, integer, float8, float8, float8, float8, float8, float8, float8) IS 'clm.clv_total at a level (the same in every row)';
