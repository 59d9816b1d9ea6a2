--
-- clm.generate_events: schema, determinism, invariants of the story,
-- agreement with the models' closed forms, bad inputs.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- the signature, volatility and parallel safety
SELECT pg_catalog.pg_get_function_arguments('clm.generate_events'::regproc) AS arguments;
SELECT pg_catalog.pg_get_function_result('clm.generate_events'::regproc) AS result;
SELECT provolatile, proparallel, proisstrict, proretset
FROM pg_catalog.pg_proc WHERE oid = 'clm.generate_events'::regproc;
SELECT pg_catalog.obj_description('clm.generate_events'::regproc, 'pg_proc') IS NOT NULL AS has_comment;

-- the planner estimates customers * 15 rows (support function) when the
-- count is known at plan time, else the declared ROWS 15000
CREATE FUNCTION pg_temp.plan_rows(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
	RETURN (j->0->'Plan'->>'Plan Rows')::float8;
END $$;
SELECT pg_temp.plan_rows('SELECT * FROM clm.generate_events(1000)') AS rows_1000,
	   pg_temp.plan_rows('SELECT * FROM clm.generate_events(1000 * 1000, dropout => ''mbgnbd'')') AS rows_1m,
	   pg_temp.plan_rows('SELECT * FROM clm.generate_events(0)') AS rows_0,
	   pg_temp.plan_rows('SELECT * FROM generate_series(1, 3) n, clm.generate_events(n)') / 3 AS rows_unknown;

-- the first customers of the default stream, pinned (seed 42)
SELECT * FROM clm.generate_events(3);

-- customers = 0 gives no rows
SELECT count(*) FROM clm.generate_events(0);

-- determinism: two calls with the same arguments give the same rows, in the
-- same order; another seed gives other rows
WITH g1 AS (SELECT md5(string_agg(g::text, '|' ORDER BY n)) AS h
			FROM clm.generate_events(2000) WITH ORDINALITY AS g(c, t, e, a, ch, n)),
	 g2 AS (SELECT md5(string_agg(g::text, '|' ORDER BY n)) AS h
			FROM clm.generate_events(2000) WITH ORDINALITY AS g(c, t, e, a, ch, n)),
	 g3 AS (SELECT md5(string_agg(g::text, '|' ORDER BY n)) AS h
			FROM clm.generate_events(2000, seed => 43) WITH ORDINALITY AS g(c, t, e, a, ch, n))
SELECT g1.h = g2.h AS same_seed_same_rows, g1.h <> g3.h AS other_seed_other_rows
FROM g1, g2, g3;

-- customer i depends only on (seed, i): 1000 customers are a prefix of 2000
SELECT (SELECT md5(string_agg(g::text, '|' ORDER BY n))
		FROM clm.generate_events(1000) WITH ORDINALITY AS g(c, t, e, a, ch, n)) =
	   (SELECT md5(string_agg(g::text, '|' ORDER BY n))
		FROM clm.generate_events(2000) WITH ORDINALITY AS g(c, t, e, a, ch, n)
		WHERE c <= 1000) AS prefix_stable;

-- ranges: customers 501..1500 generated on their own are the same rows
-- (the ordinality column is left out: it restarts at 1 in each call)
SELECT (SELECT md5(string_agg((c, t, e, a, ch)::text, '|' ORDER BY n))
		FROM clm.generate_events(1000, first_customer => 501) WITH ORDINALITY AS g(c, t, e, a, ch, n)) =
	   (SELECT md5(string_agg((c, t, e, a, ch)::text, '|' ORDER BY n))
		FROM clm.generate_events(1500) WITH ORDINALITY AS g(c, t, e, a, ch, n)
		WHERE c > 500) AS range_stable;
SELECT min(customer_id), max(customer_id)
FROM clm.generate_events(10, first_customer => 9223372036854775798);

-- the rows do not depend on the session time zone
SET TimeZone = 'America/New_York';
CREATE TEMP TABLE ny AS SELECT * FROM clm.generate_events(500);
SET TimeZone = 'UTC';
SELECT count(*) AS rows_differing
FROM (SELECT * FROM ny EXCEPT ALL SELECT * FROM clm.generate_events(500)) d;

-- PARALLEL SAFE: the same rows when run inside a parallel worker
SELECT md5(string_agg(g::text, '|')) AS h500 FROM clm.generate_events(500) g \gset
\i sql/include/parallel.psql
SET :force_parallel = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF)
SELECT md5(string_agg(g::text, '|')) FROM clm.generate_events(500) g;
SELECT md5(string_agg(g::text, '|')) = :'h500' AS same_in_worker
FROM clm.generate_events(500) g;
RESET :force_parallel;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

-- also callable in the select list
SELECT clm.generate_events(1, visit_ratio => 0);

-- one sample of 20,000 customers with the defaults, in emission order
CREATE TEMP TABLE ev AS
SELECT g.* FROM clm.generate_events(20000) WITH ORDINALITY AS g(customer_id, occurred_at, event_type, amount, channel, n);

-- customers 1..N, each once, in order; within a customer, time order
SELECT count(DISTINCT customer_id) AS customers, min(customer_id), max(customer_id) FROM ev;
SELECT count(*) AS out_of_order
FROM (SELECT customer_id, occurred_at,
			 lag(customer_id) OVER w AS pc, lag(occurred_at) OVER w AS pt
	  FROM ev WINDOW w AS (ORDER BY n)) x
WHERE pc > customer_id OR (pc = customer_id AND pt > occurred_at);

-- everything inside [start_date, end_date) in UTC
SELECT min(occurred_at) >= '2023-01-01 00:00+00' AS after_start,
	   max(occurred_at) <  '2025-01-01 00:00+00' AS before_end
FROM ev;

-- event types, channels and amounts: purchases have an amount > 0 with two
-- decimals, every other event a NULL amount; no refunds by default
SELECT event_type,
	   count(*) FILTER (WHERE amount IS NULL) AS null_amounts,
	   count(*) FILTER (WHERE amount <= 0) AS non_positive,
	   count(*) FILTER (WHERE scale(amount) <> 2) AS not_two_decimals
FROM ev GROUP BY 1 ORDER BY 1;
SELECT channel FROM ev GROUP BY 1 ORDER BY 1;

-- the first event of a buyer is a purchase at join, inside the acquisition
-- window [2023-01-01, 2024-01-01); a prospect's first event is a visit and
-- a prospect never buys
WITH f AS (
	SELECT DISTINCT ON (customer_id) customer_id, occurred_at, event_type
	FROM ev ORDER BY customer_id, n),
b AS (SELECT customer_id, bool_or(event_type = 'purchase') AS buyer FROM ev GROUP BY 1)
SELECT b.buyer, f.event_type, count(*),
	   bool_and(f.occurred_at >= '2023-01-01 00:00+00' AND f.occurred_at < '2024-01-01 00:00+00') AS in_window
FROM f JOIN b USING (customer_id)
GROUP BY 1, 2 ORDER BY 1, 2;

-- prospect share 0.1: binomial(20000, 0.1) has sd 0.0021; tolerance 0.01
SELECT abs(count(*) FILTER (WHERE NOT buyer) / 20000.0 - 0.1) < 0.01 AS prospect_share_ok
FROM (SELECT customer_id, bool_or(event_type = 'purchase') AS buyer FROM ev GROUP BY 1) b;

-- spend: Gamma-Gamma, E[z] = p gamma / (q - 1) = 6.25 * 15.44 / 2.74 = 35.2190
-- Var[z] = p gamma^2 / ((q-1)(q-2)) + p^2 gamma^2 / ((q-1)^2 (q-2)) = 1025.38,
-- sd 32.02 (checked by a numpy simulation of 4,000,000 draws: mean 35.225,
-- sd 31.88).  First purchases are independent across customers:
-- 4 standard errors = 4 * 32.02 / sqrt(#buyers ~ 18000) = 0.95; we allow 1.0.
SELECT abs(avg(amount) - 35.2190) < 1.0 AS first_spend_mean_ok
FROM (SELECT DISTINCT ON (customer_id) amount
	  FROM ev WHERE event_type = 'purchase' ORDER BY customer_id, n) f;

-- about 15 events per customer with the defaults (15.3 over 1,000,000
-- customers, see the README, Sample data; this sample of 20,000 rounds to 16)
SELECT round(count(*) / 20000.0) AS events_per_customer FROM ev;
DROP TABLE ev;

--
-- Repeat purchases vs the models' closed forms.  20,000 buyers (no prospects,
-- no visits), defaults r = 0.75, alpha = 2 (per week), a = 0.8, b = 2.5.
-- X(t) = purchases in (first, first + t], t = 52 weeks = 364 days; every
-- customer joins before 2024-01-01, so first + 364 days < end_date.
--
-- Expected values, computed with scipy 1.10 (hyp2f1) and confirmed by an
-- independent numpy simulation of 2,000,000 customers (in parentheses, with
-- the simulated sd of X(t)):
--   BG/NBD    E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
--             = 5.6640   (5.6597, sd 9.30)
--             P(X(t)=0) = (alpha/(alpha+t))^r = (2/54)^0.75 = 0.08443 (0.08476)
--   MBG/NBD   E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]
--             = 5.0085   (5.0155, sd 9.40)
--             P(X(t)=0) = a/(a+b) + b/(a+b) (alpha/(alpha+t))^r = 0.30638 (0.30672)
--   Pareto/NBD, s = 2, beta = 10:
--             E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]
--             = 3.1452   (3.1342, sd 7.56)
-- Tolerances are 4 standard errors of a 20,000-customer mean: sd / sqrt(20000)
-- is 0.066, 0.066 and 0.053, so 0.27, 0.27 and 0.22; for the shares
-- sqrt(P(1-P)/20000) is 0.0020 and 0.0033, so 0.008 and 0.013.
--
CREATE TEMP TABLE xt AS
WITH g AS (
	SELECT 'bgnbd' AS model, * FROM clm.generate_events(20000, dropout => 'bgnbd', visit_ratio => 0, prospect_share => 0)
	UNION ALL
	SELECT 'mbgnbd', * FROM clm.generate_events(20000, dropout => 'mbgnbd', visit_ratio => 0, prospect_share => 0)
	UNION ALL
	SELECT 'paretonbd', * FROM clm.generate_events(20000, dropout => 'paretonbd', s => 2, beta => 10, visit_ratio => 0, prospect_share => 0)),
f AS (SELECT model, customer_id, min(occurred_at) AS first FROM g GROUP BY 1, 2)
SELECT f.model, f.customer_id,
	   count(*) FILTER (WHERE g.occurred_at > f.first AND g.occurred_at <= f.first + interval '364 days') AS x
FROM f JOIN g USING (model, customer_id)
GROUP BY 1, 2;

SELECT model, count(*) AS customers,
	   abs(avg(x) - CASE model WHEN 'bgnbd' THEN 5.6640 WHEN 'mbgnbd' THEN 5.0085 ELSE 3.1452 END)
		 < CASE model WHEN 'paretonbd' THEN 0.22 ELSE 0.27 END AS mean_x_ok,
	   CASE model
		 WHEN 'bgnbd' THEN abs(avg((x = 0)::int) - 0.08443) < 0.008
		 WHEN 'mbgnbd' THEN abs(avg((x = 0)::int) - 0.30638) < 0.013
	   END AS p0_ok
FROM xt GROUP BY 1 ORDER BY 1;
DROP TABLE xt;

-- refunds: full, negative, two decimals, after a purchase of the same amount
-- on the same channel; about refund_share of the purchases (fewer near the end)
CREATE TEMP TABLE rf AS SELECT * FROM clm.generate_events(5000, refund_share => 0.2);
ANALYZE rf;
WITH r AS (SELECT * FROM rf WHERE event_type = 'refund'),
matched AS (
	SELECT DISTINCT r.customer_id, r.occurred_at
	FROM r JOIN rf p ON p.customer_id = r.customer_id AND p.amount = -r.amount
		AND p.channel = r.channel AND p.event_type = 'purchase'
		AND p.occurred_at < r.occurred_at)
SELECT count(*) FILTER (WHERE amount >= 0) AS non_negative,
	   count(*) FILTER (WHERE scale(amount) <> 2) AS not_two_decimals,
	   count(*) - (SELECT count(*) FROM matched) AS unmatched
FROM r;
SELECT round(count(*) FILTER (WHERE event_type = 'refund')::numeric
			 / count(*) FILTER (WHERE event_type = 'purchase'), 1) AS refund_share
FROM rf;
-- refunds are added on top of the same purchases
SELECT (SELECT count(*) FROM rf WHERE event_type <> 'refund') =
	   (SELECT count(*) FROM clm.generate_events(5000)) AS same_other_rows;
DROP TABLE rf;

-- custom channels and period, named notation
SELECT channel, count(*) > 0 AS used
FROM clm.generate_events(200, channels => '{shop,phone}', start_date => '2020-03-01',
						 end_date => '2020-06-01', acquisition_days => 30)
GROUP BY 1 ORDER BY 1;
SELECT min(occurred_at) >= '2020-03-01 00:00+00' AND max(occurred_at) < '2020-06-01 00:00+00' AS in_period
FROM clm.generate_events(200, start_date => '2020-03-01', end_date => '2020-06-01', acquisition_days => 30);

--
-- bad inputs
--
\set VERBOSITY sqlstate
SELECT * FROM clm.generate_events(-1);
SELECT * FROM clm.generate_events(2000000000);
SELECT * FROM clm.generate_events(NULL);
SELECT * FROM clm.generate_events(1, seed => NULL);
SELECT * FROM clm.generate_events(1, r => 0);
SELECT * FROM clm.generate_events(1, alpha => -1);
SELECT * FROM clm.generate_events(1, alpha => 'NaN');
SELECT * FROM clm.generate_events(1, r => 'Infinity');
SELECT * FROM clm.generate_events(1, a => 0);
SELECT * FROM clm.generate_events(1, b => -2.5);
SELECT * FROM clm.generate_events(1, s => 0);
SELECT * FROM clm.generate_events(1, beta => 'NaN');
SELECT * FROM clm.generate_events(1, spend_p => 0);
SELECT * FROM clm.generate_events(1, spend_q => -1);
SELECT * FROM clm.generate_events(1, spend_gamma => 'Infinity');
SELECT * FROM clm.generate_events(1, visit_ratio => -0.5);
SELECT * FROM clm.generate_events(1, prospect_share => 1.5);
SELECT * FROM clm.generate_events(1, prospect_share => 'NaN');
SELECT * FROM clm.generate_events(1, refund_share => -0.1);
SELECT * FROM clm.generate_events(1, start_date => '2025-01-01', end_date => '2025-01-01');
SELECT * FROM clm.generate_events(1, start_date => 'infinity');
SELECT * FROM clm.generate_events(1, end_date => '300000-01-01');
SELECT * FROM clm.generate_events(1, acquisition_days => 0);
SELECT * FROM clm.generate_events(1, dropout => 'BG/NBD');
SELECT * FROM clm.generate_events(1, channels => '{}');
SELECT * FROM clm.generate_events(1, channels => NULL);
SELECT * FROM clm.generate_events(1, channels => '{web,NULL}');
SELECT * FROM clm.generate_events(1, channels => '{web,""}');
SELECT * FROM clm.generate_events(1000000, alpha => 0.0001);
SELECT * FROM clm.generate_events(1, first_customer => 0);
SELECT * FROM clm.generate_events(11, first_customer => 9223372036854775798);
\set VERBOSITY default
-- the wording of the errors users meet most
SELECT * FROM clm.generate_events(1, acquisition_days => 800);
SELECT * FROM clm.generate_events(1, dropout => 'pareto');
SELECT * FROM clm.generate_events(1, prospect_share => 2);
SELECT * FROM clm.generate_events(-5);
