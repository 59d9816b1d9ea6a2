--
-- Stage rules as one value: clm.stage_rules(...) holds the defaults and checks
-- the rules; every stage function and aggregate takes it in place of the
-- seven scalar rules and gives the same answer.
--
SET TimeZone = 'UTC';

-- the defaults, in one place: population gap 30, prior 2, new 30 days, ratios 2, 4, 8
SELECT clm.stage_rules();
SELECT (clm.stage_rules(at_risk_ratio => 5)).*;
-- a NULL population gap is allowed (the customers' own, where they are at hand)
SELECT clm.stage_rules(NULL);

-- one customer: purchase days 2025-01-01, 01-11, 01-21 (k = 3, d_k - d_1 = 20)
CREATE TABLE sr (customer bigint, p clm.profile);
INSERT INTO sr
SELECT 1, clm.profile(d, 10) FROM unnest(ARRAY[DATE '2025-01-01', '2025-01-11', '2025-01-21']) d;
-- customer 2: purchases 2024-06-01 and 2024-06-05 (k = 2, gap 4); customer 3: one purchase
INSERT INTO sr
SELECT 2, clm.profile(d, 5) FROM unnest(ARRAY[DATE '2024-06-01', '2024-06-05']) d;
INSERT INTO sr SELECT 3, clm.profile(DATE '2025-02-01', 7);

-- As of 2025-03-01, customer 1 is t = 39 days past the last purchase.
-- defaults: E = (2 * 30 + 20) / (2 + 2) = 20, ratio 1.95 -> active
-- prior_strength 0: E = 10, ratio 3.9 -> at_risk
-- fixed_days with a 10-day gap: E = 10 -> at_risk; with 30: ratio 1.3 -> active
-- at_risk_ratio 3, lapsed_ratio 3.5 with prior 0: ratio 3.9 -> churned
SELECT r.label, (clm.stage(p, '2025-03-01', r.rules)).stage,
       round((clm.stage(p, '2025-03-01', r.rules)).expected_gap_days::numeric, 2) AS e,
       clm.stage_name(p, '2025-03-01', r.rules) AS stage_name
FROM sr,
     (VALUES (1, 'defaults', clm.stage_rules()),
             (2, 'prior 0', clm.stage_rules(prior_strength => 0)),
             (3, 'fixed 10', clm.stage_rules(10, fixed_days => true)),
             (4, 'fixed 30', clm.stage_rules(fixed_days => true)),
             (5, 'prior 0, churned beyond 3.5', clm.stage_rules(prior_strength => 0, at_risk_ratio => 3,
                                                           lapsed_ratio => 3.5))) r(n, label, rules)
WHERE customer = 1
ORDER BY r.n;

-- every form gives what the scalar form gives
SELECT bool_and(clm.stage(p, d, clm.stage_rules(27.5, 1, 20, 1.5, 3, 6, false))
                IS NOT DISTINCT FROM clm.stage(p, d, 27.5, 1, 20, 1.5, 3, 6, false)) AS stage_same,
       bool_and(clm.stage(p, d, clm.stage_rules()) IS NOT DISTINCT FROM clm.stage(p, d)) AS default_same
FROM sr, generate_series(DATE '2024-05-01', DATE '2025-06-01', '9 days') g(g), LATERAL (SELECT g::date AS d) x;
SELECT (SELECT clm.stage_counts(p, '2024-05-01', '2025-06-01', clm.stage_rules(40, at_risk_ratio => 5)) FROM sr)
     = (SELECT clm.stage_counts(p, '2024-05-01', '2025-06-01', 40, 2, 30, 2, 5, 8, false) FROM sr) AS counts_same,
       (SELECT clm.stage_transitions(p, '2024-05-01', '2025-06-01', clm.stage_rules(prior_strength => 0)) FROM sr)
     = (SELECT clm.stage_transitions(p, '2024-05-01', '2025-06-01', 30, 0, 30, 2, 4, 8, false) FROM sr) AS transitions_same;
SELECT customer, c.changed_on, c.from_stage, c.to_stage
FROM sr, clm.stage_changes(p, '2025-01-01', '2025-06-01', clm.stage_rules(prior_strength => 0)) c
WHERE customer = 1
EXCEPT ALL
SELECT customer, c.changed_on, c.from_stage, c.to_stage
FROM sr, clm.stage_changes(p, '2025-01-01', '2025-06-01', prior_strength => 0) c
WHERE customer = 1;
SELECT count(*) AS history_rows FROM (
    SELECT h.* FROM sr, clm.stage_history(p, '2025-01-01', '2025-06-01', 'week', 7, clm.stage_rules(new_days => 10)) h
    EXCEPT ALL
    SELECT h.* FROM sr, clm.stage_history(p, '2025-01-01', '2025-06-01', 'week', 7, new_days => 10) h) x;

-- clm.customer_stage_rows: the default rules are clm.stage_rules() (a 30-day
-- population gap), as clm.stage; NULL asks for the customers' own gap.
-- As of 2025-03-01: customer 2 has E = (60 + 4) / 3 = 21.33, t = 269 -> churned;
-- customer 3 is new (first purchase 28 days ago).  The population gap of the
-- three is the mean of 10 (customer 1) and 4 (customer 2) = 7: customer 1 then
-- has E = (14 + 20) / 4 = 8.5, ratio 4.59 -> lapsed.
SELECT r.customer_id, r.stage, round(r.expected_gap_days::numeric, 2) AS e, d.stage AS default_stage,
       n.stage AS population_stage, round(n.expected_gap_days::numeric, 2) AS population_e
FROM (SELECT clm.customer_stages(customer, p, '2025-03-01') AS s FROM sr) x,
     clm.customer_stage_rows(x.s) r
     JOIN clm.customer_stage_rows(x.s, clm.stage_rules()) d USING (customer_id)
     JOIN clm.customer_stage_rows(x.s, clm.stage_rules(NULL)) n USING (customer_id)
ORDER BY r.customer_id;
SELECT round(clm.population_gap(p, '2025-03-01')::numeric, 2) AS population_gap FROM sr;

-- Tracked sources use the same defaults: a source tracked with the default
-- settings puts every customer in the stage clm.stage gives by default, and
-- its settings hold clm.stage_rules()'s values; "population" asks for the
-- customers' own gap (NULL, as sources tracked with 0.1 stored it, too).
CREATE TABLE sr_ev AS SELECT * FROM clm.generate_events(300, seed => 5);
SELECT action, customers FROM clm.track('sr_ev', 'customer_id', 'occurred_at', 'amount',
                                        target_schema => 'sr_trk', settings => '{"as_of": "2024-12-31"}');
SELECT count(*) AS customers,
       count(*) FILTER (WHERE c.stage IS DISTINCT FROM (clm.stage(p.profile, '2024-12-31')).stage) AS differ_from_clm_stage,
       count(*) FILTER (WHERE c.stage IS DISTINCT FROM (clm.stage(p.profile, '2024-12-31', clm.stage_rules())).stage) AS differ_from_rules_form
FROM sr_trk.customers c JOIN sr_trk.profiles p USING (customer_id);
SELECT (SELECT population_gap FROM sr_trk.clm_fit) AS population_gap,
       (SELECT settings - ARRAY['population_gap_days', 'prior_strength', 'new_days', 'active_ratio',
                                'at_risk_ratio', 'lapsed_ratio', 'fixed_days'] <> settings
          FROM clm.tracked_source WHERE name = 'sr_trk') AS has_rules,
       (SELECT jsonb_build_object('population_gap_days', settings->'population_gap_days',
                                  'prior_strength', settings->'prior_strength', 'new_days', settings->'new_days',
                                  'active_ratio', settings->'active_ratio', 'at_risk_ratio', settings->'at_risk_ratio',
                                  'lapsed_ratio', settings->'lapsed_ratio', 'fixed_days', settings->'fixed_days')
               = to_jsonb(clm.stage_rules())
          FROM clm.tracked_source WHERE name = 'sr_trk') AS rules_are_the_constructors;
SELECT clm.untrack('sr_trk');
SELECT action FROM clm.track('sr_ev', 'customer_id', 'occurred_at', 'amount', target_schema => 'sr_pop',
                             settings => '{"as_of": "2024-12-31", "population_gap_days": "population"}');
SELECT round(f.population_gap::numeric, 6) = round(g.gap::numeric, 6) AS population_gap_is_the_customers,
       g.gap <> 30 AS not_30
FROM sr_pop.clm_fit f,
     (SELECT clm.population_gap(profile, '2024-12-31') AS gap FROM sr_pop.profiles) g;
SELECT clm.untrack('sr_pop');
DROP TABLE sr_ev;

-- errors
\set VERBOSITY sqlstate
SELECT clm.track_settings('{"population_gap_days": "data"}');
SELECT clm.track_settings('{"active_ratio": 5}');
SELECT clm.track_settings('{"prior_strength": -1}');
SELECT clm.stage_rules('NaN');
SELECT clm.stage_rules(0);
SELECT clm.stage_rules('Infinity');
SELECT clm.stage_rules(prior_strength => -1);
SELECT clm.stage_rules(prior_strength => 'NaN');
SELECT clm.stage_rules(new_days => -1);
SELECT clm.stage_rules(active_ratio => 5);
SELECT clm.stage_rules(lapsed_ratio => 'Infinity');
SELECT clm.stage_rules(at_risk_ratio => 'NaN', lapsed_ratio => 'NaN');
SELECT clm.stage_rules(new_days => NULL);
SELECT clm.stage_rules(fixed_days => NULL);
-- a value made without the constructor is checked where it is used
SELECT clm.stage(p, '2025-03-01', ROW(30, 2, 30, 5, 4, 8, false)::clm.stage_rules) FROM sr;
SELECT clm.stage(p, '2025-03-01', ROW(30, 2, 30, 2, 4, 8, NULL)::clm.stage_rules) FROM sr;
SELECT clm.stage(p, '2025-03-01', ROW(NULL, 2, 30, 2, 4, 8, false)::clm.stage_rules) FROM sr;
SELECT clm.stage_counts(p, '2025-01-01', '2025-03-01', NULL::clm.stage_rules) FROM sr;
SELECT clm.stage_counts(p, '2025-01-01', '2025-03-01', ROW(30, NULL, 30, 2, 4, 8, false)::clm.stage_rules) FROM sr;
SELECT count(*) FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM sr),
                                             ROW(30, 2, NULL, 2, 4, 8, false)::clm.stage_rules);
SELECT count(*) FROM clm.customer_stage_rows((SELECT clm.customer_stages(customer, p, '2025-03-01') FROM sr),
                                             NULL::clm.stage_rules);
\set VERBOSITY default
DROP TABLE sr;
