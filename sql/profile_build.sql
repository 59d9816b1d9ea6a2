--
-- The batched build of profile_build.c (clm's own profile aggregates in a
-- plain or partial aggregate) against the row-at-a-time build of
-- profile_agg.c (a user aggregate on clm.profile_trans takes it), and against
-- counts in plain SQL: every plan and memory setting gives the same profiles.
-- Also what a user can do with clm.profile_trans in an aggregate of their
-- own (initial state, window, moving, ordered-set, a combine function of
-- their own in partial plans): results, never a crash.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_profile_build;
SET search_path = test_profile_build, clm, public;
SET max_parallel_workers_per_gather = 0;

-- 60,000 events of 3,000 customers in time order (deterministic hashes):
-- a third activity, one in 13 a refund, four channels and some NULL ones;
-- customer 0 has 3,000 events on 40 days in 20 channels (past the cap of 16).
CREATE TABLE ev AS
SELECT * FROM (
  SELECT (hashint4(i) & 2147483647) % 3000 + 1 AS customer_id,
         '2024-01-01 00:00+00'::timestamptz + i * interval '9 minutes' AS occurred_at,
         CASE WHEN i % 3 = 0 THEN NULL
              WHEN i % 13 = 0 THEN -((i % 40)::numeric / 4)
              ELSE (hashint4(i * 7) & 1023)::numeric / 100 END AS amount,
         CASE WHEN i % 11 = 0 THEN NULL
              ELSE (ARRAY['web', 'app', 'store', 'email'])[1 + (hashint4(i * 3) & 3)] END AS channel
  FROM generate_series(1, 60000) i
  UNION ALL
  SELECT 0, '2024-03-01 00:00+00'::timestamptz + (i % 40) * interval '1 day' + i * interval '1 second',
         (i % 7)::numeric, 'ch' || lpad((i % 20)::text, 2, '0')
  FROM generate_series(1, 3000) i) s
ORDER BY occurred_at;
ANALYZE ev;

-- the row-at-a-time build: a user aggregate on the same functions
CREATE AGGREGATE flat_profile(timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile,
    FINALFUNC = clm.profile_final, COMBINEFUNC = clm.profile_combine,
    PARALLEL = SAFE);
CREATE TABLE ref AS
SELECT customer_id, flat_profile(occurred_at, amount, channel) AS p FROM ev GROUP BY 1;

-- the batched build against it, at several work_mem (64kB: the hash
-- aggregate spills, and its context is reset between batches)
CREATE FUNCTION differ(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  EXECUTE 'SELECT count(*) FROM (' || q || ') b FULL JOIN ref r USING (customer_id)
           WHERE b.p IS DISTINCT FROM r.p' INTO n;
  RETURN n;
END $$;
SET work_mem = '64kB';
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel) p FROM ev GROUP BY 1') AS at_64kb;
SET work_mem = '4MB';
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel) p FROM ev GROUP BY 1') AS at_4mb;
SET work_mem = '1GB';
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel) p FROM ev GROUP BY 1') AS at_1gb;
RESET work_mem;

-- independent counts: events, first and last event, purchase days
SELECT count(*) AS customers,
       sum(clm.event_count(p)) = (SELECT count(*) FROM ev) AS all_events,
       bool_and(clm.first_event(p) = f AND clm.last_event(p) = l) AS first_last
FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel) p,
             min(occurred_at) f, max(occurred_at) l
      FROM ev GROUP BY 1) s;

-- sorted aggregation, ORDER BY and DISTINCT inside the aggregate
SET enable_hashagg = off;
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel) p FROM ev GROUP BY 1') AS sorted;
RESET enable_hashagg;
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel ORDER BY occurred_at DESC) p FROM ev GROUP BY 1') AS order_by;
SELECT differ('SELECT customer_id, clm.profile(DISTINCT occurred_at, amount, channel) p FROM ev GROUP BY 1') AS with_distinct;

-- grouping sets, hashed (one context for all sets) and sorted (one each)
CREATE TABLE gref AS
SELECT customer_id % 10 AS k, channel, grouping(customer_id % 10, channel) AS g,
       flat_profile(occurred_at, amount, channel) AS p
FROM ev GROUP BY GROUPING SETS ((customer_id % 10), (customer_id % 10, channel), (channel), ());
CREATE FUNCTION gdiffer() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    SELECT customer_id % 10 AS k, channel, clm.profile(occurred_at, amount, channel) AS p,
           grouping(customer_id % 10, channel) AS g
    FROM ev GROUP BY GROUPING SETS ((customer_id % 10), (customer_id % 10, channel), (channel), ())) b
  FULL JOIN gref r
    ON b.g = r.g AND b.k IS NOT DISTINCT FROM r.k AND b.channel IS NOT DISTINCT FROM r.channel
  WHERE b.p IS DISTINCT FROM r.p $$;
SELECT count(*) AS sets_rows FROM gref;
SELECT gdiffer() = 0 AS hashed_sets_same;
SET enable_hashagg = off;
SELECT gdiffer() = 0 AS sorted_sets_same;
RESET enable_hashagg;

-- rescans: the aggregate in a correlated subquery, once per customer
SELECT count(*) AS rescan_differ
FROM (SELECT c.customer_id,
             (SELECT clm.profile(occurred_at, amount, channel) FROM ev WHERE ev.customer_id = c.customer_id) p
      FROM ref c WHERE c.customer_id < 200) s
JOIN ref r USING (customer_id) WHERE s.p IS DISTINCT FROM r.p;

-- a user aggregate sharing the transition state with clm.profile (no final
-- function: its result is the state itself), and profile_merge over states
CREATE AGGREGATE raw_profile(timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile);
SELECT count(*) FILTER (WHERE p IS DISTINCT FROM q) AS shared_differ, count(*)
FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel) p,
             raw_profile(occurred_at, amount, channel) q FROM ev GROUP BY 1) s;
SELECT (SELECT clm.profile_merge(p) FROM (SELECT clm.profile(occurred_at, amount, channel) p
                                          FROM ev GROUP BY customer_id % 7) s)
     = (SELECT flat_profile(occurred_at, amount, channel) FROM ev) AS merged_same;

-- parallel and partitionwise plans (partial states flattened into tuples,
-- or passed up to the combine function in the same process)
\i sql/include/parallel.psql
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT differ('SELECT customer_id, clm.profile(occurred_at, amount, channel) p FROM ev GROUP BY 1') AS parallel;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE pev (LIKE ev) PARTITION BY HASH (customer_id);
CREATE TABLE pev0 PARTITION OF pev FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pev1 PARTITION OF pev FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO pev SELECT * FROM ev;
ANALYZE pev;
SET enable_partitionwise_aggregate = on;
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT customer_id % 10, clm.profile(occurred_at, amount, channel) FROM pev GROUP BY 1;
SELECT count(*) FILTER (WHERE b.p IS DISTINCT FROM r.rp) AS partitionwise_differ, count(*)
FROM (SELECT customer_id % 10 AS k, clm.profile(occurred_at, amount, channel) p FROM pev GROUP BY 1) b
JOIN (SELECT k, p AS rp FROM gref WHERE g = 1) r USING (k);

-- a user's combine function (plpgsql, which keeps its argument in a
-- variable) on a transition state shared with clm.profile's in the partial
-- aggregates: the partial states it receives are never the batched ones
CREATE FUNCTION user_combine(a clm.profile, b clm.profile) RETURNS clm.profile
LANGUAGE plpgsql STRICT AS $$
DECLARE x clm.profile;
BEGIN
  x := b;
  RETURN clm.profile_merge(a, x);
END $$;
CREATE AGGREGATE user_profile(timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile,
    FINALFUNC = clm.profile_final, COMBINEFUNC = user_combine, PARALLEL = SAFE);
SELECT count(*) FILTER (WHERE p IS DISTINCT FROM q OR p IS DISTINCT FROM rp) AS user_combine_differ, count(*)
FROM (SELECT customer_id % 10 AS k, clm.profile(occurred_at, amount, channel) p,
             user_profile(occurred_at, amount, channel) q FROM pev GROUP BY 1) b
JOIN (SELECT k, p AS rp FROM gref WHERE g = 1) r USING (k);
RESET enable_partitionwise_aggregate;
RESET enable_sort;

-- window aggregates (the state is reused across rows): running profiles
SELECT count(*) FILTER (WHERE p IS DISTINCT FROM q) AS window_differ, count(*)
FROM (SELECT clm.profile(occurred_at, amount, channel) OVER w p,
             flat_profile(occurred_at, amount, channel) OVER w q
      FROM ev WHERE customer_id < 100
      WINDOW w AS (PARTITION BY customer_id ORDER BY occurred_at)) s;
SELECT clm.event_count(clm.profile(occurred_at, amount, channel) OVER (ORDER BY occurred_at)) AS running
FROM ev WHERE customer_id = 0 ORDER BY occurred_at LIMIT 3;

-- an initial state: the history it holds is merged with the rows
CREATE AGGREGATE init_profile(timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile, FINALFUNC = clm.profile_final,
    INITCOND = '{"v":1,"events":2,"refunds":0,"first_event":"2020-01-01 10:00:00+00","last_event":"2020-01-02 10:00:00+00","days":[["2020-01-01",1,5],["2020-01-02",0,0]],"channels":[["zz",2,1,"2020-01-02"]],"other":[0,0,null]}');
SELECT count(*) FILTER (WHERE s.ip IS DISTINCT FROM
         clm.profile_merge(r.p, '{"v":1,"events":2,"refunds":0,"first_event":"2020-01-01 10:00:00+00","last_event":"2020-01-02 10:00:00+00","days":[["2020-01-01",1,5],["2020-01-02",0,0]],"channels":[["zz",2,1,"2020-01-02"]],"other":[0,0,null]}'))
       AS initcond_differ
FROM (SELECT customer_id, init_profile(occurred_at, amount, channel) ip FROM ev GROUP BY 1) s
JOIN ref r USING (customer_id);
SELECT clm.event_count(init_profile(occurred_at, amount, channel) OVER (ORDER BY occurred_at)) AS running_init
FROM ev WHERE customer_id = 0 ORDER BY occurred_at LIMIT 2;

-- a moving aggregate whose inverse is the user's (here: no-op)
CREATE FUNCTION keep(p clm.profile, t timestamptz, a numeric, c text) RETURNS clm.profile
LANGUAGE sql IMMUTABLE AS 'SELECT p';
CREATE AGGREGATE moving_profile(timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile, FINALFUNC = clm.profile_final,
    MSFUNC = clm.profile_trans, MINVFUNC = keep, MSTYPE = clm.profile,
    MFINALFUNC = clm.profile_final);
SELECT clm.event_count(moving_profile(occurred_at, amount, channel)
         OVER (ORDER BY occurred_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) AS moving
FROM ev WHERE customer_id = 0 ORDER BY occurred_at LIMIT 5;

-- an ordered-set aggregate on the transition function
CREATE AGGREGATE ordered_profile(ORDER BY timestamptz, numeric, text) (
    SFUNC = clm.profile_trans, STYPE = clm.profile, FINALFUNC = clm.profile_final);
SELECT (SELECT ordered_profile() WITHIN GROUP (ORDER BY occurred_at, amount, channel)
        FROM ev WHERE customer_id = 0)
     = (SELECT p FROM ref WHERE customer_id = 0) AS ordered_set_same;

-- customer 0: 20 channels, the 16 that sort first kept
SELECT jsonb_array_length((p::text)::jsonb -> 'channels') AS kept,
       ((p::text)::jsonb -> 'other') ->> 0 AS other_events
FROM (SELECT clm.profile(occurred_at, amount, channel) p FROM ev WHERE customer_id = 0) s;

-- errors keep their SQLSTATE (the row is checked before it is queued)
\set VERBOSITY sqlstate
SELECT clm.profile(t, 1::numeric, repeat('x', 65)) FROM (VALUES (now())) v(t);
SELECT clm.profile(t, 1::numeric, 'web') FROM (VALUES ('infinity'::timestamptz)) v(t);
SELECT clm.profile(t, 'NaN'::numeric, 'web') FROM (VALUES (now())) v(t);
\set VERBOSITY default

RESET search_path;
DROP SCHEMA test_profile_build CASCADE;
