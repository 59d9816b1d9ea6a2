-- static covariates (src/sql/52_covariates.sql): clm.model_parameter also
-- returns a covariate effect by its name
COMMENT ON FUNCTION @extschema@.model_parameter(@extschema@.model, text) IS 'one parameter of a model by name (r, alpha, a, b, s, beta, p, q, gamma, delta), or a covariate effect as process.covariate (trans.web)';
