-- Model choice of a tracked source (setting model = 'auto'): at each refit
-- clm.choose_model compares the models on the last model_holdout_weeks of
-- the source's profiles; the chosen one is fitted on all the data and the
-- comparison is kept in clm.tracked_model_choice, one row per candidate.

CREATE TABLE @extschema@.tracked_model_choice (
    source text NOT NULL REFERENCES @extschema@.tracked_source (name) ON DELETE CASCADE,
    as_of date NOT NULL,
    calibration_end date NOT NULL,
    chosen_at timestamptz NOT NULL,
    model text NOT NULL,
    status text NOT NULL,
    chosen boolean NOT NULL,
    reason text,
    holdout_log_likelihood double precision,
    holdout_mae double precision,
    holdout_rmse double precision,
    predicted double precision,
    actual double precision,
    bic double precision,
    PRIMARY KEY (source, model)
);
COMMENT ON TABLE @extschema@.tracked_model_choice IS 'clm catalog: the model choice of the last refit of each tracked source with the setting model = ''auto'' (clm.choose_model), one row per candidate; a role sees the rows of the sources it sees in clm.tracked_sources';
COMMENT ON COLUMN @extschema@.tracked_model_choice.source IS 'the tracked source (clm.tracked_source.name)';
COMMENT ON COLUMN @extschema@.tracked_model_choice.as_of IS 'the refit day: the end of the holdout, and the calibration end of the model then fitted on all the data';
COMMENT ON COLUMN @extschema@.tracked_model_choice.calibration_end IS 'the end of the calibration period of the comparison (as_of minus model_holdout_weeks)';
COMMENT ON COLUMN @extschema@.tracked_model_choice.chosen_at IS 'when the choice ran';
COMMENT ON COLUMN @extschema@.tracked_model_choice.model IS 'the candidate model (bgnbd, mbgnbd, paretonbd)';
COMMENT ON COLUMN @extschema@.tracked_model_choice.status IS 'ok, not converged: ..., failed: ..., or default (no choice could be made; see reason)';
COMMENT ON COLUMN @extschema@.tracked_model_choice.chosen IS 'true for the model the refit used';
COMMENT ON COLUMN @extschema@.tracked_model_choice.reason IS 'why the model was or was not chosen, in words';
COMMENT ON COLUMN @extschema@.tracked_model_choice.holdout_log_likelihood IS 'sum over customers of the log-probability of their holdout purchase count (higher is better; the ranking metric)';
COMMENT ON COLUMN @extschema@.tracked_model_choice.holdout_mae IS 'mean absolute error of the customers'' holdout purchase counts';
COMMENT ON COLUMN @extschema@.tracked_model_choice.holdout_rmse IS 'root mean squared error of the customers'' holdout purchase counts';
COMMENT ON COLUMN @extschema@.tracked_model_choice.predicted IS 'predicted repeat purchases in the holdout, summed over customers';
COMMENT ON COLUMN @extschema@.tracked_model_choice.actual IS 'actual repeat purchases in the holdout, summed over customers';
COMMENT ON COLUMN @extschema@.tracked_model_choice.bic IS 'Bayesian information criterion of the calibration fit';
GRANT SELECT, INSERT, DELETE ON @extschema@.tracked_model_choice TO PUBLIC;
ALTER TABLE @extschema@.tracked_model_choice ENABLE ROW LEVEL SECURITY;
-- the rows of a source are seen by the roles that see its catalog row (the
-- policies of clm.tracked_source apply in the subquery) and written by its owner
CREATE POLICY tracked_model_choice_read ON @extschema@.tracked_model_choice FOR SELECT
    USING (EXISTS (SELECT FROM @extschema@.tracked_source ts WHERE ts.name = tracked_model_choice.source));
CREATE POLICY tracked_model_choice_own ON @extschema@.tracked_model_choice
    USING (EXISTS (SELECT FROM @extschema@.tracked_source ts WHERE ts.name = tracked_model_choice.source
                      AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')))
    WITH CHECK (EXISTS (SELECT FROM @extschema@.tracked_source ts WHERE ts.name = tracked_model_choice.source
                           AND pg_catalog.pg_has_role(current_user, pg_catalog.to_regrole(pg_catalog.quote_ident(ts.owner)), 'MEMBER')));

-- The model choice on a table of profiles (column profile), as the rows of
-- clm.tracked_model_choice for the source src: clm.choose_model's candidates
-- (holdout the last holdout_weeks weeks before as_of), or, when none can be
-- chosen (clm.choose_model fails on the data, or chooses none), bgnbd with
-- status default and the reason.  Records nothing: clm.track_choose_model
-- records the rows of a tracked source, clm.report_profiles shows them.
CREATE FUNCTION @extschema@.track_model_choice(src text, profiles regclass, as_of date, holdout_weeks integer)
    RETURNS SETOF @extschema@.tracked_model_choice LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE  -- clm.choose_model runs queries
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    calibration_end date := as_of - 7 * holdout_weeks;
    got @extschema@.tracked_model_choice[];
    err text;
BEGIN
    -- the candidates are all collected before any is returned, so that a
    -- failure returns none of them
    BEGIN
        SELECT pg_catalog.array_agg(ROW(src, as_of, calibration_end, pg_catalog.now(), c.model, c.status, c.chosen, c.reason,
                                        c.holdout_log_likelihood, c.holdout_mae, c.holdout_rmse, c.predicted, c.actual,
                                        c.bic)::@extschema@.tracked_model_choice)
          INTO got
          FROM @extschema@.choose_model(profiles, calibration_end, as_of, 'week') AS c;
    EXCEPTION WHEN data_exception OR invalid_parameter_value THEN
        err := SQLERRM;
    END;
    IF EXISTS (SELECT FROM pg_catalog.unnest(got) g WHERE g.chosen) THEN
        RETURN QUERY SELECT * FROM pg_catalog.unnest(got);
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM pg_catalog.unnest(got) g WHERE g.model <> 'bgnbd';
    RETURN NEXT ROW(src, as_of, calibration_end, pg_catalog.now(), 'bgnbd', 'default', true,
                    'bgnbd by default, no choice made: ' || coalesce(err, 'no candidate could be fitted and scored'),
                    NULL, NULL, NULL, NULL, NULL, NULL)::@extschema@.tracked_model_choice;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_model_choice(text, regclass, date, integer) IS 'internal: the model choice on a table of profiles (clm.choose_model, holdout the last holdout_weeks weeks before as_of; bgnbd with the reason when none can be chosen) as rows of clm.tracked_model_choice for the source src, recorded nowhere';

-- Runs the model choice of a tracked source at a refit and records it; returns
-- the chosen model, bgnbd (recorded with the reason) when none can be chosen.
CREATE FUNCTION @extschema@.track_choose_model(r @extschema@.tracked_source, as_of date)
    RETURNS text LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE  -- writes the catalog
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    kind text;
BEGIN
    DELETE FROM @extschema@.tracked_model_choice c WHERE c.source = r.name;
    INSERT INTO @extschema@.tracked_model_choice
    SELECT * FROM @extschema@.track_model_choice(r.name, pg_catalog.format('%I.profiles', r.target_schema)::pg_catalog.regclass,
                                                 as_of, coalesce((r.settings->>'model_holdout_weeks')::integer, 26));
    SELECT c.model INTO kind FROM @extschema@.tracked_model_choice c WHERE c.source = r.name AND c.chosen;
    RETURN kind;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_choose_model(@extschema@.tracked_source, date) IS 'internal: the model choice of a tracked source with model = ''auto'' at a refit (clm.choose_model on its profiles, holdout the last model_holdout_weeks before as_of), recorded in clm.tracked_model_choice; returns the chosen model, bgnbd when none can be chosen';
