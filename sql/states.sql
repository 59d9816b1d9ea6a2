--
-- States and values read by clm's C functions (issue 18, items 1, 2 and 7):
-- every transition, combine, final and rows function validates its state
-- before reading or writing it, whether an aggregate of clm's calls it, a
-- user calls it directly (with NULLs), or a user's own aggregate uses it
-- with any initial condition; every bad value is a precise SQLSTATE, never
-- XX000.  Run as a role with nothing but USAGE on clm and TEMP on the
-- database (pg_regress runs as a superuser: the role is made here).
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE ROLE clm_test_states;
GRANT USAGE ON SCHEMA clm TO clm_test_states;
SET ROLE clm_test_states;
\set VERBOSITY sqlstate

-- one customer who bought on 2024-01-01, 2024-01-11 and 2024-01-31 (gaps 10
-- and 20 days: mean gap 15) and visited on 2024-02-10
CREATE TEMP TABLE pr AS
SELECT clm.profile(d, a) AS p
  FROM (VALUES ('2024-01-01'::date, 10::numeric), ('2024-01-11', 20), ('2024-01-31', 5),
               ('2024-02-10', NULL)) v(d, a);

--
-- 1. Direct calls, with NULLs and with states
--
-- the crash of the issue: a NULL state is an empty one
SELECT clm.population_gap_trans(NULL, NULL, NULL);
-- one customer with mean gap 15: {count 1, sum 15, sum of squares 225}
SELECT clm.population_gap_trans(NULL, p, '2024-12-31') FROM pr;
SELECT clm.population_gap_trans('{1,15,225}', p, '2024-12-31') FROM pr;
SELECT clm.population_gap_trans('{1,2}', p, '2024-12-31') FROM pr;
SELECT clm.population_gap_trans('{{1,2,3}}', p, '2024-12-31') FROM pr;
SELECT clm.population_gap_trans('{1,NULL,3}', p, '2024-12-31') FROM pr;
-- every other transition and combine function, called outside an aggregate
-- with NULLs: a result or a precise SQLSTATE, never XX000
CREATE TEMP TABLE calls (q text);
INSERT INTO calls VALUES
  ('SELECT clm.lifecycle_trans(NULL, NULL, ''2024-01-01'', ''2024-03-31'', ''month'')'),
  ('SELECT clm.lifecycle_combine(NULL, NULL)'),
  ('SELECT clm.retention_trans(NULL, NULL, ''2024-01-01'', ''2024-03-31'', ''month'')'),
  ('SELECT clm.retention_combine(NULL, NULL)'),
  ('SELECT clm.stage_transitions_trans(NULL, NULL, ''2024-01-01'', ''2024-02-01'')'),
  ('SELECT clm.stage_transitions_combine(NULL, NULL)'),
  ('SELECT clm.stage_counts_trans(NULL, NULL, ''2024-01-01'', ''2024-01-02'')'),
  ('SELECT clm.stage_counts_combine(NULL, NULL)'),
  ('SELECT clm.customer_stages_trans(NULL, NULL, NULL, ''2024-01-01'')'),
  ('SELECT clm.customer_stages_combine(NULL, NULL)'),
  ('SELECT clm.customer_rfm_trans(NULL, NULL, NULL, ''2024-01-01'')'),
  ('SELECT clm.customer_rfm_combine(NULL, NULL)'),
  ('SELECT clm.rfm_state_trans(NULL, NULL, ''2024-01-01'')'),
  ('SELECT clm.rfm_state_final(NULL)'),
  ('SELECT clm.profile_trans(NULL, NULL::date, NULL::numeric)'),
  ('SELECT clm.bgnbd_fit_trans(NULL, NULL, NULL, NULL)'),
  ('SELECT clm.scores_trans(NULL, NULL, NULL)'),
  ('SELECT clm.model_histogram_merge(NULL, NULL)');
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE q INTO r;
    RETURN 'ok ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
SELECT q, pg_temp.outcome(q) FROM calls;
-- a state read from a table is never written into by a direct call
CREATE TEMP TABLE st AS
SELECT clm.lifecycle_trans(NULL, NULL, '2024-01-01', '2024-03-31', 'month') AS s;
SELECT clm.lifecycle_trans(s, p, '2024-01-01', '2024-03-31', 'month') FROM st, pr;
SELECT s FROM st;
SELECT clm.lifecycle_combine(s, s) = s AS combine_of_empty_is_empty FROM st;

--
-- 2. User aggregates with crafted initial conditions
--
-- the issue's example: a valid header claiming 100000 periods, no counts
CREATE AGGREGATE pg_temp.lc_bad(clm.profile, date, date, text)
  (sfunc = clm.lifecycle_trans, stype = bigint[], initcond = '{1,8766,8947,3,1,1,0,0,100000}');
SELECT pg_temp.lc_bad(p, '2024-01-01', '2024-06-30', 'month') FROM pr;
-- a right header (January to June 2024: 6 months from month 24288) and no counts
CREATE AGGREGATE pg_temp.lc_short(clm.profile, date, date, text)
  (sfunc = clm.lifecycle_trans, stype = bigint[], initcond = '{1,8766,8947,3,1,1,0,24288,6}');
SELECT pg_temp.lc_short(p, '2024-01-01', '2024-06-30', 'month') FROM pr;
-- the right empty state as initcond gives what clm.lifecycle gives: new in
-- January, returning in February, dormant in March
CREATE AGGREGATE pg_temp.lc_good(clm.profile, date, date, text)
  (sfunc = clm.lifecycle_trans, stype = bigint[],
   initcond = '{1,8766,8947,3,1,1,0,24288,6,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');
SELECT pg_temp.lc_good(p, '2024-01-01', '2024-06-30', 'month')
     = clm.lifecycle(p, '2024-01-01', '2024-06-30', 'month') AS same
  FROM pr;
SELECT r.period_start, r.new_customers, r.returning_customers, r.dormant_customers
  FROM (SELECT pg_temp.lc_good(p, '2024-01-01', '2024-06-30', 'month') AS s FROM pr) x,
       clm.lifecycle_rows(x.s) r
 WHERE r.new_customers + r.returning_customers + r.dormant_customers > 0;
-- a huge count: adding to it is an error (22003) where combining
CREATE AGGREGATE pg_temp.lc_combine(bigint[])
  (sfunc = clm.lifecycle_combine, stype = bigint[],
   initcond = '{1,8766,8947,3,1,1,0,24288,6,9223372036854775807,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');
SELECT pg_temp.lc_combine(s) FROM (SELECT clm.lifecycle(p, '2024-01-01', '2024-06-30', 'month') s FROM pr) x;
-- the other bigint[] and float8[] states, short or inconsistent
CREATE AGGREGATE pg_temp.tm_bad(clm.profile, date, date)
  (sfunc = clm.stage_transitions_trans, stype = bigint[], initcond = '{1,8766,8797}');
SELECT pg_temp.tm_bad(p, '2024-01-01', '2024-02-01') FROM pr;
CREATE AGGREGATE pg_temp.sc_bad(clm.profile, date, date)
  (sfunc = clm.stage_counts_trans, stype = bigint[], initcond = '{1,8766,8767,0,0,0,0,0,0,0,0}');
SELECT pg_temp.sc_bad(p, '2024-01-01', '2024-01-02') FROM pr;
CREATE AGGREGATE pg_temp.rt_bad(clm.profile, date, date, text)
  (sfunc = clm.retention_trans, stype = bigint[], initcond = '{}');
SELECT pg_temp.rt_bad(p, '2024-01-01', '2024-03-31', 'month') FROM pr;
-- a customer state claiming 5 records with room for none
CREATE AGGREGATE pg_temp.cs_bad(bigint, clm.profile, date)
  (sfunc = clm.customer_stages_trans, stype = bigint[], initcond = '{101,5,9131,4}');
SELECT pg_temp.cs_bad(1, p, '2024-12-31') FROM pr;
CREATE AGGREGATE pg_temp.pg_bad(clm.profile, date)
  (sfunc = clm.population_gap_trans, stype = float8[], initcond = '{}');
SELECT pg_temp.pg_bad(p, '2024-12-31') FROM pr;
-- without initcond the state starts NULL: an empty one
CREATE AGGREGATE pg_temp.pg_null(clm.profile, date)
  (sfunc = clm.population_gap_trans, stype = float8[]);
SELECT pg_temp.pg_null(p, '2024-12-31') FROM pr;
CREATE AGGREGATE pg_temp.nps_bad(integer)
  (sfunc = clm.nps_trans, stype = bigint[], initcond = '{0}');
SELECT pg_temp.nps_bad(9);
CREATE AGGREGATE pg_temp.nps_full(integer)
  (sfunc = clm.nps_trans, stype = bigint[], initcond = '{0,0,0,0,0,0,0,0,0,9223372036854775807,0}');
SELECT pg_temp.nps_full(9);
-- a canonical profile as the state of the profile aggregate: the days stay
-- sorted (the state's last day is not taken for 2000-01-01)
CREATE AGGREGATE pg_temp.pf_init(date, numeric)
  (sfunc = clm.profile_trans, stype = clm.profile,
   initcond = '{"v":1,"events":1,"refunds":0,"first_event":"2024-03-01 00:00:00+00","last_event":"2024-03-01 00:00:00+00","days":[["2024-03-01",1,7]],"channels":[],"other":[0,0,null]}');
SELECT clm.event_count(pg_temp.pf_init(d, 1)),
       (SELECT array_agg(day ORDER BY day) FROM clm.profile_days(pg_temp.pf_init(d, 1))) AS days
  FROM (VALUES ('2000-01-01'::date), ('2024-02-01'), ('2024-04-01')) v(d);

--
-- 7. Bad values with the right code
--
-- a negative count (was csat 116.67, margin NaN)
SELECT clm.csat_final('{1,0,-2,3,4}');
-- counts whose total is beyond bigint (was a negative number of answers)
SELECT clm.nps_final('{0,0,0,0,0,0,0,0,0,9223372036854775807,9223372036854775807}');
SELECT clm.csat_final('{0,0,0,9223372036854775807,1}');
-- by hand: 2 detractors, 1 passive, 3 promoters of 6: NPS 100 (3 - 2) / 6
SELECT round(nps::numeric, 4), respondents, promoters, passives, detractors
  FROM clm.nps_final('{1,0,0,0,0,0,1,0,1,2,1}');
-- a population gap so small that the ratio would be infinite (was Infinity)
SELECT clm.stage(p, '2024-06-01', population_gap_days => 5e-324) FROM pr;
-- the smallest accepted gap: 1e-300 days; with k = 3 purchase days the
-- expected gap is (2 * 1e-300 + 30) / 4 = 7.5 days (prior strength 2)
SELECT (clm.stage(p, '2024-06-01', population_gap_days => 1e-300)).expected_gap_days FROM pr;
-- an empty score histogram: NULL, as the aggregate over no rows (was NaN)
SELECT clm.brier_score_final('scores:') IS NULL AS brier_null,
       clm.roc_auc_final('scores:') IS NULL AS auc_null,
       (SELECT clm.brier_score(p, o) FROM (VALUES (0.5::float8, true)) v(p, o) WHERE false) IS NULL
         AS aggregate_null;
-- transition functions outside an aggregate: their own states, no XX000
SELECT clm.stage_transitions_trans(NULL, p, '2024-01-01', '2024-02-01') FROM pr;
SELECT clm.nps_trans('{0,0,0,0,0,0,0,0,0,0,0}', 10);

-- short binary input: 22P03 (not 08P01).  The bytes go through a binary
-- COPY of a bytea column into a column of the clm type (superuser: a file
-- in the data directory)
RESET ROLE;
SELECT setting || '/clm_states_raw.bin' AS binfile FROM pg_settings WHERE name = 'data_directory' \gset
CREATE TEMP TABLE raw (b bytea);
CREATE TEMP TABLE bin_profile (v clm.profile);
CREATE TEMP TABLE bin_state (v clm.rfm_state);
CREATE TEMP TABLE bin_bp (v clm.rfm_breakpoints);
CREATE TEMP TABLE bin_model (v clm.model);
CREATE TEMP TABLE bin_hist (v clm.model_histogram);
INSERT INTO raw VALUES ('\x');
COPY raw TO :'binfile' (FORMAT binary);
COPY bin_profile FROM :'binfile' (FORMAT binary);
COPY bin_state FROM :'binfile' (FORMAT binary);
COPY bin_bp FROM :'binfile' (FORMAT binary);
COPY bin_model FROM :'binfile' (FORMAT binary);
COPY bin_hist FROM :'binfile' (FORMAT binary);
-- a model cut in its parameters, a model without the message's terminator
TRUNCATE raw;
INSERT INTO raw SELECT substr(clm.model_send(clm.make_model('bgnbd', '{0.5,2,0.7,3}')), 1, 40);
COPY raw TO :'binfile' (FORMAT binary);
COPY bin_model FROM :'binfile' (FORMAT binary);
TRUNCATE raw;
INSERT INTO raw SELECT substr(b, 1, length(b) - 1)
  FROM (SELECT clm.model_send(clm.make_model('bgnbd', '{0.5,2,0.7,3}')) b) s;
COPY raw TO :'binfile' (FORMAT binary);
COPY bin_model FROM :'binfile' (FORMAT binary);
-- a profile cut after its first bytes
TRUNCATE raw;
INSERT INTO raw SELECT substr(clm.profile_send(p), 1, 20) FROM pr;
COPY raw TO :'binfile' (FORMAT binary);
COPY bin_profile FROM :'binfile' (FORMAT binary);
-- the whole profile loads and equals the original
TRUNCATE raw;
INSERT INTO raw SELECT clm.profile_send(p) FROM pr;
COPY raw TO :'binfile' (FORMAT binary);
COPY bin_profile FROM :'binfile' (FORMAT binary);
SELECT v::text = p::text AS same FROM bin_profile, pr;

\set VERBOSITY default
DROP OWNED BY clm_test_states;
DROP ROLE clm_test_states;
