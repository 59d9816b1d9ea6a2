-- Model choice on a holdout (issue 15, part 5): fit the candidate purchase
-- models on a calibration period, score each on the holdout period after it
-- and name the best with its reason.  clm.choose_model reads a relation of
-- profiles with the caller's rights (SECURITY INVOKER).

CREATE FUNCTION @extschema@.choose_model(
	profiles regclass,
	calibration_end date,
	holdout_end date,
	unit text DEFAULT 'week',
	candidates text[] DEFAULT ARRAY['bgnbd', 'mbgnbd', 'paretonbd'],
	metric text DEFAULT 'log_score',
	profile_column name DEFAULT 'profile')
	RETURNS TABLE (model text, status text, chosen boolean, reason text,
				   holdout_mae float8, holdout_rmse float8, holdout_log_likelihood float8, predicted float8, actual float8,
				   total_error float8, log_likelihood float8, aic float8, bic float8,
				   customers bigint, fit @extschema@.model)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE	-- runs queries of its own (EXECUTE)
	SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict error
DECLARE
	min_customers constant integer := 20;
	per float8;					-- days per unit
	h float8;					-- holdout length in units
	cands text[] := '{}';
	k text;
	coltype oid;
	-- the distinct (x, t_x, T, holdout purchases) tuples and their counts
	xs float8[];
	txs float8[];
	ts float8[];
	acts float8[];
	ns float8[];
	ncust float8;
	nrep float8;
	nbad bigint;
	-- one entry per candidate
	r_model text[] := '{}';
	r_status text[] := '{}';
	r_mae float8[] := '{}';
	r_rmse float8[] := '{}';
	r_pred float8[] := '{}';
	r_act float8[] := '{}';
	r_ll float8[] := '{}';
	r_k integer[] := '{}';
	r_n float8[] := '{}';
	r_fit @extschema@.model[] := '{}';
	m @extschema@.model;
	st text;
	v_mae float8;
	v_rmse float8;
	v_pred float8;
	v_act float8;
	v_hll float8;
	r_hll float8[] := '{}';
	i integer;
	best integer;
	bic_best integer;
	score float8[];
	metric_name text;
	best_word text;
	dp integer;
	shown float8[];
	mae_best integer;
	why text;
	others text;
BEGIN
	IF choose_model.profiles IS NULL OR choose_model.calibration_end IS NULL OR choose_model.holdout_end IS NULL
	   OR choose_model.unit IS NULL OR choose_model.candidates IS NULL OR choose_model.metric IS NULL
	   OR choose_model.profile_column IS NULL THEN
		RAISE EXCEPTION 'clm: choose_model arguments must not be null' USING ERRCODE = '22004';
	END IF;
	per := CASE choose_model.unit WHEN 'day' THEN 1 WHEN 'week' THEN 7 WHEN 'month' THEN 365.25 / 12 END;
	IF per IS NULL THEN
		RAISE EXCEPTION 'clm: unit must be day, week or month, not "%"', choose_model.unit USING ERRCODE = '22023';
	END IF;
	IF NOT isfinite(choose_model.calibration_end) OR NOT isfinite(choose_model.holdout_end) THEN
		RAISE EXCEPTION 'clm: calibration_end and holdout_end must be finite dates' USING ERRCODE = '22023';
	END IF;
	h := (choose_model.holdout_end - choose_model.calibration_end) / per;
	IF h < 1 THEN
		RAISE EXCEPTION 'clm: the holdout (% to %) is shorter than one %', choose_model.calibration_end,
			choose_model.holdout_end, choose_model.unit
			USING ERRCODE = '22023', HINT = 'holdout_end must be at least one unit after calibration_end.';
	END IF;
	IF choose_model.metric NOT IN ('mae', 'rmse', 'total', 'log_score') THEN
		RAISE EXCEPTION 'clm: metric must be log_score, mae, rmse or total, not "%"', choose_model.metric USING ERRCODE = '22023';
	END IF;
	FOREACH k IN ARRAY choose_model.candidates LOOP
		IF k IS NULL OR k NOT IN ('bgnbd', 'mbgnbd', 'paretonbd', 'bgbb') THEN
			RAISE EXCEPTION 'clm: candidate models are bgnbd, mbgnbd, paretonbd and bgbb, not "%"', k
				USING ERRCODE = '22023';
		END IF;
		IF NOT k = ANY (cands) THEN
			cands := cands || k;
		END IF;
	END LOOP;
	IF cardinality(cands) = 0 THEN
		RAISE EXCEPTION 'clm: no candidate model given' USING ERRCODE = '22023';
	END IF;
	SELECT a.atttypid INTO coltype FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid = choose_model.profiles AND a.attname = choose_model.profile_column
	   AND a.attnum > 0 AND NOT a.attisdropped;
	IF coltype IS NULL THEN
		RAISE EXCEPTION 'clm: relation % has no column "%"', choose_model.profiles, choose_model.profile_column
			USING ERRCODE = '42703';
	END IF;
	IF coltype <> '@extschema@.profile'::pg_catalog.regtype THEN
		RAISE EXCEPTION 'clm: column "%" of % is of type %, not clm.profile', choose_model.profile_column,
			choose_model.profiles, coltype::pg_catalog.regtype
			USING ERRCODE = '42804';
	END IF;

	-- one scan: each customer's inputs at the calibration end and repeat
	-- purchases in the holdout, grouped into distinct tuples
	EXECUTE format($q$
		SELECT pg_catalog.array_agg(g.x), pg_catalog.array_agg(g.t_x), pg_catalog.array_agg(g.t),
			   pg_catalog.array_agg(g.a), pg_catalog.array_agg(g.n), pg_catalog.sum(g.n),
			   pg_catalog.sum(g.n) FILTER (WHERE g.x > 0)
		  FROM (SELECT c.x, c.t_x, c.t, h.x - c.x AS a, pg_catalog.count(*)::float8 AS n
				  FROM %s AS p,
					   @extschema@.btyd_inputs(p.%I, $1, $2) AS c,
					   @extschema@.btyd_inputs(p.%I, $3, $2) AS h
				 WHERE c.x IS NOT NULL AND c.t > 0
				 GROUP BY 1, 2, 3, 4) AS g$q$,
		choose_model.profiles, choose_model.profile_column, choose_model.profile_column)
		INTO xs, txs, ts, acts, ns, ncust, nrep
		USING choose_model.calibration_end, choose_model.unit, choose_model.holdout_end;
	IF coalesce(ncust, 0) < min_customers OR coalesce(nrep, 0) = 0 THEN
		RAISE EXCEPTION 'clm: too few customers to choose a model: % with a purchase before %, % of them with a repeat purchase',
			coalesce(ncust, 0), choose_model.calibration_end, coalesce(nrep, 0)
			USING ERRCODE = '22023',
				  HINT = format('The choice needs at least %s customers with a purchase before the calibration end and one repeat purchase.', min_customers);
	END IF;

	FOREACH k IN ARRAY cands LOOP
		m := NULL;
		st := 'ok';
		v_mae := NULL; v_rmse := NULL; v_hll := NULL; v_pred := NULL; v_act := NULL;
		IF k = 'bgbb' THEN
			-- discrete data: the unit periods as the opportunities, recency and
			-- age rounded to whole periods; not applicable when a customer has
			-- more repeat purchases than periods up to the last one
			SELECT pg_catalog.sum(u.n) INTO nbad FROM unnest(xs, txs, ts, ns) AS u(x, t_x, t, n)
			 WHERE u.x > pg_catalog.round(u.t_x) OR pg_catalog.round(u.t) < 1;
			IF choose_model.metric = 'log_score' THEN
				st := 'not applicable: no holdout log-likelihood for BG/BB (rank it with metric mae, rmse or total)';
			ELSIF nbad > 0 THEN
				st := format('not applicable: %s customers have more repeat purchases than %ss up to their last purchase, or are younger than one %s (BG/BB needs at most one purchase a %s)',
							 nbad, choose_model.unit, choose_model.unit, choose_model.unit);
			END IF;
		END IF;
		IF st = 'ok' THEN
			BEGIN
				IF k = 'bgbb' THEN
					SELECT @extschema@.bgbb_fit(u.x, pg_catalog.round(u.t_x), pg_catalog.round(u.t), u.n) INTO m
					  FROM unnest(xs, txs, ts, ns) AS u(x, t_x, t, n);
					SELECT pg_catalog.sum(u.n * abs(e.p - u.a)) / pg_catalog.sum(u.n),
						   sqrt(pg_catalog.sum(u.n * (e.p - u.a) ^ 2) / pg_catalog.sum(u.n)),
						   pg_catalog.sum(u.n * e.p), pg_catalog.sum(u.n * u.a)
					  INTO v_mae, v_rmse, v_pred, v_act
					  FROM unnest(xs, txs, ts, acts, ns) AS u(x, t_x, t, a, n),
						   LATERAL (SELECT @extschema@.expected_purchases(m, pg_catalog.round(h), u.x,
								pg_catalog.round(u.t_x), pg_catalog.round(u.t))) AS e(p);
				ELSE
					-- the fit aggregates take one row per customer
					EXECUTE format('SELECT @extschema@.%s_fit(u.x, u.t_x, u.t) FROM unnest($1, $2, $3, $4) AS u(x, t_x, t, n),'
								   ' pg_catalog.generate_series(1, u.n::integer)', k)
						INTO m USING xs, txs, ts, ns;
					SELECT pg_catalog.sum(u.n * abs(e.p - u.a)) / pg_catalog.sum(u.n),
						   sqrt(pg_catalog.sum(u.n * (e.p - u.a) ^ 2) / pg_catalog.sum(u.n)),
						   pg_catalog.sum(u.n * e.p), pg_catalog.sum(u.n * u.a)
						   , pg_catalog.sum(u.n * ln(e.q))
					  INTO v_mae, v_rmse, v_pred, v_act, v_hll
					  FROM unnest(xs, txs, ts, acts, ns) AS u(x, t_x, t, a, n),
						   LATERAL (SELECT @extschema@.expected_purchases(m, h, u.x, u.t_x, u.t),
										   @extschema@.p_purchases(m, u.a::integer, h, u.x, u.t_x, u.t)) AS e(p, q);
				END IF;
				IF NOT (@extschema@.model_info(m)).converged THEN
					st := 'not converged: ' || coalesce((@extschema@.model_info(m)).message, 'no message');
				ELSIF NOT (v_mae < 'Infinity'::float8 AND v_rmse < 'Infinity'::float8) THEN
					st := 'failed: a holdout prediction is not finite';
				END IF;
			EXCEPTION WHEN OTHERS THEN
				st := 'failed: ' || SQLERRM;
			END;
		END IF;
		r_model := r_model || k;
		r_status := r_status || st;
		r_mae := r_mae || v_mae;
		r_rmse := r_rmse || v_rmse;
		r_pred := r_pred || v_pred;
		r_act := r_act || v_act;
		r_hll := r_hll || v_hll;
		r_ll := r_ll || CASE WHEN m IS NOT NULL THEN (@extschema@.model_info(m)).log_likelihood END;
		r_k := r_k || CASE WHEN m IS NOT NULL THEN cardinality((@extschema@.model_info(m)).parameters) END;
		r_n := r_n || CASE WHEN m IS NOT NULL THEN (@extschema@.model_info(m)).n_customers END;
		r_fit := r_fit || m;
	END LOOP;

	-- the ranking score of each eligible candidate (smaller is better) and
	-- the figure shown for it (the log score as the holdout log-likelihood)
	metric_name := CASE choose_model.metric WHEN 'mae' THEN 'MAE' WHEN 'rmse' THEN 'RMSE'
						WHEN 'total' THEN 'total error' ELSE 'log-likelihood' END;
	dp := CASE choose_model.metric WHEN 'log_score' THEN 2 ELSE 4 END;
	best_word := CASE choose_model.metric WHEN 'log_score' THEN 'highest' ELSE 'lowest' END;
	score := array_fill(NULL::float8, ARRAY[cardinality(r_model)]);
	shown := score;
	FOR i IN 1 .. cardinality(r_model) LOOP
		IF r_status[i] = 'ok' THEN
			score[i] := CASE choose_model.metric WHEN 'mae' THEN r_mae[i] WHEN 'rmse' THEN r_rmse[i]
						WHEN 'log_score' THEN -r_hll[i]
						ELSE coalesce(abs(r_pred[i] / nullif(r_act[i], 0) - 1), abs(r_pred[i])) END;
			shown[i] := CASE choose_model.metric WHEN 'log_score' THEN r_hll[i] ELSE score[i] END;
			IF best IS NULL OR score[i] < score[best] THEN
				best := i;
			END IF;
			-- BIC and MAE compared within the continuous-time models only
			-- (BG/BB's likelihood is of other data)
			IF r_model[i] <> 'bgbb' AND (bic_best IS NULL
				OR r_k[i] * ln(r_n[i]) - 2 * r_ll[i] < r_k[bic_best] * ln(r_n[bic_best]) - 2 * r_ll[bic_best]) THEN
				bic_best := i;
			END IF;
			IF mae_best IS NULL OR r_mae[i] < r_mae[mae_best] THEN
				mae_best := i;
			END IF;
		END IF;
	END LOOP;

	IF best IS NOT NULL THEN
		SELECT string_agg(format('%s %s', r_model[j], round(shown[j]::numeric, dp)), ', ' ORDER BY score[j])
		  INTO others FROM generate_series(1, cardinality(r_model)) AS j
		 WHERE j <> best AND score[j] IS NOT NULL;
		why := format('%s: %s holdout %s %s over %s %ss', r_model[best], best_word, metric_name,
					  round(shown[best]::numeric, dp), round(h::numeric, 2), choose_model.unit)
			|| coalesce(' vs ' || others, ' (the only candidate fitted)');
		IF others IS NOT NULL AND choose_model.metric <> 'mae' THEN
			why := why || CASE WHEN mae_best = best THEN '; MAE also lowest'
						  ELSE format('; MAE lower for %s (%s vs %s)', r_model[mae_best],
									  round(r_mae[mae_best]::numeric, 4), round(r_mae[best]::numeric, 4)) END;
		END IF;
		IF r_model[best] <> 'bgbb' AND bic_best IS NOT NULL AND others IS NOT NULL THEN
			why := why || CASE WHEN bic_best = best THEN '; BIC on the calibration also lowest'
						  ELSE format('; BIC on the calibration lower for %s (%s vs %s)', r_model[bic_best],
									  round((r_k[bic_best] * ln(r_n[bic_best]) - 2 * r_ll[bic_best])::numeric, 1),
									  round((r_k[best] * ln(r_n[best]) - 2 * r_ll[best])::numeric, 1)) END;
		END IF;
		SELECT string_agg(format('%s %s', r_model[j], split_part(r_status[j], ':', 1)), ', ')
		  INTO others FROM generate_series(1, cardinality(r_model)) AS j WHERE r_status[j] <> 'ok';
		why := why || coalesce('; not eligible: ' || others, '');
	END IF;

	FOR i IN 1 .. cardinality(r_model) LOOP
		model := r_model[i];
		status := r_status[i];
		chosen := (i = best);
		reason := CASE WHEN i = best THEN why
					   WHEN r_status[i] <> 'ok' THEN 'not chosen: ' || r_status[i]
					   WHEN best IS NOT NULL THEN format('not chosen: holdout %s %s, %s %s than %s', metric_name,
						   round(shown[i]::numeric, dp), round((score[i] - score[best])::numeric, dp),
						   CASE choose_model.metric WHEN 'log_score' THEN 'lower' ELSE 'higher' END, r_model[best]) END;
		IF best IS NULL THEN
			chosen := false;
			reason := 'no candidate could be fitted and scored: ' || r_status[i];
		END IF;
		holdout_mae := r_mae[i];
		holdout_rmse := r_rmse[i];
		holdout_log_likelihood := r_hll[i];
		predicted := r_pred[i];
		actual := r_act[i];
		total_error := r_pred[i] / nullif(r_act[i], 0) - 1;
		log_likelihood := r_ll[i];
		aic := 2 * r_k[i] - 2 * r_ll[i];
		bic := r_k[i] * ln(r_n[i]) - 2 * r_ll[i];
		customers := ncust::bigint;
		fit := r_fit[i];
		RETURN NEXT;
	END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.choose_model(regclass, date, date, text, text[], text, name) IS 'fits the candidate purchase models (bgnbd, mbgnbd, paretonbd; bgbb on discrete data) on the profiles up to calibration_end and scores each on the repeat purchases up to holdout_end: one row per candidate with its status, holdout MAE, RMSE, predicted and actual totals, calibration log-likelihood, AIC and BIC, the fit, and the chosen one (smallest holdout metric among the converged fits) with the reason in words';
