
-- Next purchase and a new customer's forecast (src/model_predict.c,
-- src/core/clm_next.c; docs/models.md, "Next purchase" and "New customers").
-- New in 0.2 (clm--0.1--0.2.sql holds it as released).
CREATE FUNCTION @extschema@.next_purchase(model @extschema@.model, within float8,
	x float8, t_x float8, "T" float8,
	OUT p_alive float8, OUT p_purchase_within float8, OUT median_wait float8,
	OUT mean_wait float8, OUT mean_interval float8, OUT own_interval float8,
	OUT population_interval float8, OUT own_weight float8)
	AS 'MODULE_PATHNAME', 'clm_next_purchase_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.next_purchase(@extschema@.model, float8, float8, float8, float8) IS 'next purchase of a customer (bgnbd, mbgnbd, paretonbd; times in the unit of the fit): P(alive), P(a purchase in the next within), median and mean wait for the next purchase given alive, mean time between purchases (alpha+T)/(r+x) with the own interval T/x, the population interval alpha/r and the weight T/(alpha+T) of the own rate';
CREATE FUNCTION @extschema@.next_purchase_date(model @extschema@.model, p @extschema@.profile,
	calibration_end date, unit text DEFAULT 'week') RETURNS date
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	BEGIN ATOMIC
	SELECT CASE WHEN n.median_wait * d.days > 36525 THEN 'infinity'::date
		ELSE next_purchase_date.calibration_end + pg_catalog.round(n.median_wait * d.days)::integer END
	  FROM @extschema@.btyd_inputs(next_purchase_date.p, next_purchase_date.calibration_end, next_purchase_date.unit) AS i,
		   @extschema@.next_purchase(next_purchase_date.model, 0, i.x, i.t_x, i.t) AS n,
		   (SELECT CASE next_purchase_date.unit WHEN 'day' THEN 1.0::float8 WHEN 'week' THEN 7.0::float8
				ELSE 365.25::float8 / 12 END) AS d(days);
	END;
COMMENT ON FUNCTION @extschema@.next_purchase_date(@extschema@.model, @extschema@.profile, date, text) IS 'expected date of the next purchase: calibration_end plus the median wait given alive (clm.next_purchase), rounded to a day; infinity beyond 100 years; NULL without a purchase by calibration_end. The model must be fitted in unit';
CREATE FUNCTION @extschema@.new_customer_purchases(model @extschema@.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_new_customer_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.new_customer_purchases(@extschema@.model, float8) IS 'expected purchases in the first t time units of a customer just acquired (as CLVTools newcustomer()): E[X(t)] of the model (bgnbd, mbgnbd, paretonbd)';
