--
-- The call forms of clm.stage and the stage functions as 0.1's README wrote
-- them resolve as in 0.1, next to the clm.stage_rules forms 0.2 added: a
-- quoted population gap ('30') or NULL at its place was ambiguous in 0.2
-- (42725, "function clm.stage(clm.profile, unknown, unknown) is not unique").
--
-- One customer, purchase days 2024-01-01, 2024-01-21, 2024-02-10 (k = 3, span
-- 40 days).  By hand, expected gap E = (kappa g + span) / (kappa + k - 1),
-- kappa = 2:  g = 30: E = 100 / 4 = 25;  g = 5: E = 50 / 4 = 12.5.
-- On 2024-04-10 (t = 60 days since the last purchase): g = 30: ratio 2.4, at
-- risk (2 < 2.4 <= 4);  g = 5: ratio 4.8, lapsed (4 < 4.8 <= 8).
--
SET TimeZone = 'UTC';
CREATE TEMP TABLE one AS
SELECT 1::bigint AS customer_id, clm.profile(d, 10.0) AS p
  FROM unnest('{2024-01-01,2024-01-21,2024-02-10}'::date[]) d;

-- clm.stage: as_of only; a number; a quoted number; named; NULL (STRICT: NULL)
SELECT (clm.stage(p, '2024-04-10')).* FROM one;
SELECT (clm.stage(p, '2024-04-10', 5)).* FROM one;
SELECT (clm.stage(p, '2024-04-10', '5')).* FROM one;
SELECT (clm.stage(p, '2024-04-10', '30')).stage AS quoted_30, (clm.stage(p, '2024-04-10', '12.5')).expected_gap_days AS quoted_12_5 FROM one;
SELECT (clm.stage(p, '2024-04-10', population_gap_days => '5')).stage AS named_quoted,
       (clm.stage(p, '2024-04-10', population_gap_days => 27.5)).expected_gap_days AS named_27_5 FROM one;
SELECT clm.stage(p, '2024-04-10', NULL) IS NULL AS null_gap_is_null FROM one;
-- the further rules given positionally, quoted or not (only the scalar form has them)
SELECT (clm.stage(p, '2024-04-10', '5', '0')).expected_gap_days AS own_gap, (clm.stage(p, '2024-04-10', 5, 0)).expected_gap_days AS own_gap_typed FROM one;
-- 0.2's form: a clm.stage_rules value; equal to the scalar form with the same rules
SELECT clm.stage(p, '2024-04-10', clm.stage_rules(5)) = clm.stage(p, '2024-04-10', 5) AS rules_form FROM one;
-- a text value is read as a number; anything else is 22P02, as in 0.1
SELECT (clm.stage(p, '2024-04-10', g)).stage FROM one, (VALUES ('5'::text)) v(g);
\set VERBOSITY sqlstate
SELECT clm.stage(p, '2024-04-10', '5 days') FROM one;
SELECT clm.stage(p, '2024-04-10', '(5,2,30,2,4,8,f)') FROM one;
\set VERBOSITY default

-- clm.stage_name
SELECT clm.stage_name(p, '2024-04-10') AS default_gap, clm.stage_name(p, '2024-04-10', '5') AS quoted,
       clm.stage_name(p, '2024-04-10', 5) AS typed, clm.stage_name(p, '2024-04-10', NULL) AS null_gap FROM one;

-- clm.stage_history: 0.1's example form, and with a quoted gap (as typed)
SELECT h.* FROM one, clm.stage_history(p, '2024-01-01', '2024-06-30', 'month') h;
SELECT array_agg(h.stage ORDER BY h.period_start) AS quoted,
       (SELECT array_agg(g.stage ORDER BY g.period_start) FROM one, clm.stage_history(p, '2024-01-01', '2024-06-30', 'month', 1, 5) g) AS typed
  FROM one, clm.stage_history(p, '2024-01-01', '2024-06-30', 'month', 1, '5') h;

-- clm.stage_changes with a quoted gap: the days of the changes, by hand with
-- g = 5, E = 12.5 after the third purchase: active to 2024-03-06 (t <= 25),
-- at_risk from 2024-03-07 (t = 26), lapsed from 2024-04-01 (t = 51 > 50), churned
-- from 2024-05-21 (t = 101 > 100)
SELECT c.changed_on, c.from_stage, c.to_stage FROM one, clm.stage_changes(p, '2024-02-10', '2024-12-31', '5') c;
SELECT count(*) = (SELECT count(*) FROM one, clm.stage_changes(p, '2024-02-10', '2024-12-31', 5)) AS same_as_typed
  FROM one, clm.stage_changes(p, '2024-02-10', '2024-12-31', '5');

-- clm.customer_stages and clm.customer_stage_rows: 0.1's form; a quoted gap;
-- NULL (0.1's default: the customers' own population gap)
CREATE TEMP TABLE cs AS SELECT clm.customer_stages(customer_id, p, '2024-04-10') AS s FROM one;
SELECT r.customer_id, r.stage, r.expected_gap_days FROM cs, clm.customer_stage_rows(cs.s) r;
SELECT r.customer_id, r.stage, r.expected_gap_days FROM cs, clm.customer_stage_rows(cs.s, '5') r;
SELECT r.customer_id, r.stage, r.expected_gap_days FROM cs, clm.customer_stage_rows(cs.s, NULL) r;

-- the aggregates, in 0.1's forms: a number, a quoted number, NULL.  By hand,
-- g = 5: active 03-01 to 03-06 (6 days), at_risk 03-07 to 03-31 (25), lapsed
-- 04-01 to 04-10 (10); g = 30 (the default): active on 03-01 (t = 20 <= 50),
-- at_risk on 04-10 (ratio 2.4)
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10') AS m FROM one) s,
       clm.transition_rows(s.m) r;
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', 5) AS m FROM one) s,
       clm.transition_rows(s.m) r;
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', '5') AS m FROM one) s,
       clm.transition_rows(s.m) r;
SELECT r.* FROM (SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', '30') AS m FROM one) s,
       clm.transition_rows(s.m) r;
SELECT r.stage, count(*) AS days FROM (SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', 5) AS c FROM one) s,
       clm.stage_count_rows(s.c) r WHERE r.customers > 0 GROUP BY 1 ORDER BY 1;
SELECT r.stage, count(*) AS days FROM (SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', '5') AS c FROM one) s,
       clm.stage_count_rows(s.c) r WHERE r.customers > 0 GROUP BY 1 ORDER BY 1;
SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', '12.5') = clm.stage_counts(p, '2024-03-01', '2024-04-10', 12.5) AS counts_quoted_as_typed,
       clm.stage_transitions(p, '2024-03-01', '2024-04-10', '12.5')
         = clm.stage_transitions(p, '2024-03-01', '2024-04-10', 12.5) AS transitions_quoted_as_typed FROM one;
-- the further rules given positionally, quoted (the scalar form, as in 0.1)
SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', '5', '2', '30', '2', '4', '8', 'f')
         = clm.stage_transitions(p, '2024-03-01', '2024-04-10', 5) AS transitions_all_quoted,
       clm.stage_counts(p, '2024-03-01', '2024-04-10', '5', '2', '30', '2', '4', '8', 'f')
         = clm.stage_counts(p, '2024-03-01', '2024-04-10', 5) AS counts_all_quoted FROM one;
-- 0.2's form: a clm.stage_rules value
SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', clm.stage_rules(5))
         = clm.stage_counts(p, '2024-03-01', '2024-04-10', 5) AS counts_rules_form,
       clm.stage_transitions(p, '2024-03-01', '2024-04-10', clm.stage_rules(5))
         = clm.stage_transitions(p, '2024-03-01', '2024-04-10', 5) AS transitions_rules_form FROM one;
-- a text value is read as a number; NULL is 22004 and text that is no number
-- 22P02, as in 0.1
SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', g) = clm.stage_counts(p, '2024-03-01', '2024-04-10', 5) AS text_value
  FROM one, (VALUES ('5'::text)) v(g);
\set VERBOSITY sqlstate
SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', NULL) FROM one;
SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', NULL) FROM one;
SELECT clm.stage_transitions(p, '2024-03-01', '2024-04-10', '5 days') FROM one;
SELECT clm.stage_counts(p, '2024-03-01', '2024-04-10', '(5,2,30,2,4,8,f)') FROM one;
\set VERBOSITY default
