-- test/upgrade/fixture_0.2.sql: the helpers of test/upgrade/fixture.sql for
-- what 0.2 added (in pg_temp), used after fixture.sql by make_fixture 0.2 (run
-- once against the 0.2 build, output committed under fixtures/) and by
-- v02_values.sh (run against the current build).

-- a histogram of any kind: its text form, read back, and the answers that do
-- not depend on an optimiser's path: the score metrics of a scores histogram,
-- the log-likelihood (to 3 decimals) of the fits that converge on these inputs
-- (paretonbd, bgbb, sbg; mbgnbd and gg find no finite optimum on them: text
-- only); bgnbd as in fixture.sql (the 0.1 fixture's answer)
CREATE OR REPLACE FUNCTION pg_temp.hist_answers(h clm.model_histogram) RETURNS text LANGUAGE sql AS $$
    SELECT CASE split_part(h::text, ':', 1)
        WHEN 'bgnbd' THEN concat_ws(' | ', h::text, round(clm.model_parameter(clm.bgnbd_fit_final(h), 'r')::numeric, 4))
        WHEN 'scores' THEN concat_ws(' | ', h::text::clm.model_histogram::text,
                                     round(clm.roc_auc_final(h)::numeric, 12), round(clm.brier_score_final(h)::numeric, 12))
        WHEN 'paretonbd' THEN concat_ws(' | ', h::text::clm.model_histogram::text,
                                        round((clm.model_info(clm.paretonbd_fit_final(h))).log_likelihood::numeric, 3))
        WHEN 'bgbb' THEN concat_ws(' | ', h::text::clm.model_histogram::text,
                                   round((clm.model_info(clm.bgbb_fit_final(h))).log_likelihood::numeric, 3))
        WHEN 'sbg' THEN concat_ws(' | ', h::text::clm.model_histogram::text,
                                  round((clm.model_info(clm.sbg_fit_final(h))).log_likelihood::numeric, 3))
        ELSE h::text::clm.model_histogram::text END
$$;

-- stage rules: the stages they give to a few customers with regular, slowing
-- and single purchases, on several days (none for rules without a population
-- gap: clm.stage refuses them; they serve the aggregates over many customers)
CREATE FUNCTION pg_temp.rules_answers(r clm.stage_rules) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', r::text, (r).population_gap_days IS NULL,
        (SELECT string_agg(c.k || '@' || d.d::date || ' ' || (clm.stage(c.p, d.d::date, r))::text, ';' ORDER BY c.k, d.d)
           FROM (SELECT 'regular' AS k, clm.profile(t::date, 10.0) AS p FROM generate_series('2024-01-01'::date, '2024-06-01', '14 days') t
                 UNION ALL SELECT 'slowing', clm.profile(t::date, 20.0) FROM unnest('{2024-01-01,2024-01-05,2024-01-20,2024-03-01,2024-06-01}'::date[]) t
                 UNION ALL SELECT 'single', clm.profile(date '2024-05-20', 5.0)) c,
                generate_series('2024-06-10'::date, '2025-06-10', '50 days') d
          WHERE (r).population_gap_days IS NOT NULL))
$$;

CREATE FUNCTION pg_temp.forms(v clm.stage_rules) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(record_send(v)), pg_temp.rules_answers(v))::pg_temp.forms
$$;
