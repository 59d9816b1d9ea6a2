--
-- clm.profile in parallel and partitionwise plans, and the merge laws, on
-- generated data: every plan must give the profiles of the serial plan.
--
SET TimeZone = 'Europe/Berlin';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_profile_parallel;
SET search_path = test_profile_parallel, public;

-- 200,000 events of 2,000 customers over 2024 (deterministic hashes):
-- a third are activity events, one in 17 a refund, purchases 0.00 to 10.23,
-- five channels; customer 0 has 100,000 events in random order on 366 days.
CREATE TABLE ev AS
SELECT (i % 2000) + 1 AS customer_id,
       '2024-01-01 00:00+00'::timestamptz
         + ((hashint4(i) & 2147483647) % (366 * 86400)) * interval '1 second' AS occurred_at,
       CASE WHEN i % 3 = 0 THEN NULL
            WHEN i % 17 = 0 THEN -((i % 50)::numeric / 4)
            ELSE (hashint4(i * 7) & 1023)::numeric / 100 END AS amount,
       (ARRAY['web', 'app', 'store', 'email', 'phone'])[1 + (i % 5)] AS channel
FROM generate_series(1, 200000) i
UNION ALL
SELECT 0, '2024-01-01 00:00+00'::timestamptz
            + ((hashint4(-i) & 2147483647) % (366 * 86400)) * interval '1 second',
       (i % 100)::numeric, NULL
FROM generate_series(1, 100000) i;
ANALYZE ev;

-- the serial plan
SET max_parallel_workers_per_gather = 0;
CREATE TABLE serial AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;

-- the customer with 100,000 events: its days and orders agree with plain SQL
SELECT (SELECT count(*) FROM clm.profile_days(p)) AS days,
       (SELECT sum(orders) FROM clm.profile_days(p)) AS orders,
       (SELECT sum(spend) FROM clm.profile_days(p)) AS spend
FROM serial WHERE customer_id = 0;
SELECT count(DISTINCT occurred_at::date) AS days, count(*) AS orders, sum(amount) AS spend
FROM ev WHERE customer_id = 0;

-- a parallel plan: Partial Aggregate in the workers, states merged by the
-- combine function in Finalize Aggregate
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
CREATE TABLE par AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE s.p::text IS DISTINCT FROM q.p::text) AS differ
FROM serial s FULL JOIN par q USING (customer_id);

-- the same with sorted grouping (GroupAggregate) in the workers
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
CREATE TABLE par_sorted AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
SELECT count(*) FILTER (WHERE s.p::text IS DISTINCT FROM q.p::text) AS differ
FROM serial s FULL JOIN par_sorted q USING (customer_id);
RESET enable_hashagg;
RESET parallel_leader_participation;

-- partitionwise aggregation over a table partitioned by time: each
-- partition is aggregated on its own and the partial profiles merged
CREATE TABLE evp (LIKE ev) PARTITION BY RANGE (occurred_at);
CREATE TABLE evp_h1 PARTITION OF evp FOR VALUES FROM ('2023-01-01') TO ('2024-04-01');
CREATE TABLE evp_h2 PARTITION OF evp FOR VALUES FROM ('2024-04-01') TO ('2024-08-01');
CREATE TABLE evp_h3 PARTITION OF evp FOR VALUES FROM ('2024-08-01') TO ('2026-01-01');
INSERT INTO evp SELECT * FROM ev;
ANALYZE evp;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF)
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM evp GROUP BY customer_id;
CREATE TABLE pw AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM evp GROUP BY customer_id;
SELECT count(*) FILTER (WHERE s.p::text IS DISTINCT FROM q.p::text) AS differ
FROM serial s FULL JOIN pw q USING (customer_id);
RESET enable_partitionwise_aggregate;

-- merge laws, per customer, with the events split three ways by a hash:
--   profile(A u B) = merge(profile(A), profile(B))
--   merge(a, b) = merge(b, a)
--   merge(merge(a, b), c) = merge(a, merge(b, c))
--   profile_merge over the parts = profile of all events
CREATE TABLE parts AS
  SELECT customer_id,
         clm.profile(occurred_at, amount, channel) FILTER (WHERE part = 0) AS a,
         clm.profile(occurred_at, amount, channel) FILTER (WHERE part = 1) AS b,
         clm.profile(occurred_at, amount, channel) FILTER (WHERE part = 2) AS c,
         clm.profile(occurred_at, amount, channel) FILTER (WHERE part < 2) AS ab
  FROM (SELECT *, (hashtext(occurred_at::text || customer_id) & 2147483647) % 3 AS part FROM ev) e
  GROUP BY customer_id;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE clm.profile_merge(a, b)::text IS DISTINCT FROM ab::text) AS union_law,
       count(*) FILTER (WHERE clm.profile_merge(a, b)::text IS DISTINCT FROM clm.profile_merge(b, a)::text) AS commutative,
       count(*) FILTER (WHERE clm.profile_merge(clm.profile_merge(a, b), c)::text
                          IS DISTINCT FROM clm.profile_merge(a, clm.profile_merge(b, c))::text) AS associative,
       count(*) FILTER (WHERE clm.profile_merge(clm.profile_merge(a, b), c)::text
                          IS DISTINCT FROM s.p::text) AS whole
FROM parts JOIN serial s USING (customer_id)
WHERE a IS NOT NULL AND b IS NOT NULL AND c IS NOT NULL;
SELECT count(*) FILTER (WHERE m.p::text IS DISTINCT FROM s.p::text) AS merge_agg_differs
FROM (SELECT customer_id, clm.profile_merge(x) AS p
      FROM parts, LATERAL (VALUES (a), (b), (c)) v(x) GROUP BY customer_id) m
JOIN serial s USING (customer_id);

-- The channel cap: 20 channels ch01..ch20, channel chNN with NN events.
-- The 16 names that sort first are kept; ch17..ch20 go to "other":
-- 17 + 18 + 19 + 20 = 74 events.  Merging in any order keeps the same names.
CREATE TABLE chev AS
  SELECT '2025-01-01 12:00+00'::timestamptz + (k * interval '1 day') AS t,
         'ch' || lpad(k::text, 2, '0') AS ch, (k % 2)::numeric AS amount
  FROM generate_series(1, 20) k, generate_series(1, 20) j WHERE j <= k;
SELECT * FROM clm.profile_channels((SELECT clm.profile(t, amount, ch) FROM chev));
SELECT count(DISTINCT p::text) AS distinct_results FROM (
  SELECT clm.profile(t, amount, ch ORDER BY ch) AS p FROM chev
  UNION ALL SELECT clm.profile(t, amount, ch ORDER BY ch DESC) FROM chev
  UNION ALL SELECT clm.profile(t, amount, ch ORDER BY md5(ch || t)) FROM chev
  UNION ALL SELECT clm.profile_merge(clm.profile(t, amount, ch) FILTER (WHERE ch > 'ch10'),
                                     clm.profile(t, amount, ch) FILTER (WHERE ch <= 'ch10')) FROM chev
  UNION ALL SELECT clm.profile_merge(clm.profile(t, amount, ch) FILTER (WHERE ch <= 'ch10'),
                                     clm.profile(t, amount, ch) FILTER (WHERE ch > 'ch10')) FROM chev) s;
