--
-- clm.profile(occurred_at timestamptz, amount, channel, time_zone): days are
-- calendar days in the named zone, whatever the session's TimeZone (on
-- Citus, whatever each worker's), so the profile is the same wherever it is
-- computed.
--
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;
CREATE SCHEMA test_profile_zone;
SET search_path = test_profile_zone, public;

-- By hand.  2024-03-10 11:30 UTC is 2024-03-11 00:30 in Auckland (NZDT,
-- UTC+13 until 2024-04-07) and 2024-03-10 07:30 in New York (EDT from
-- 2024-03-10 07:00 UTC): Auckland counts 03-11, UTC and New York 03-10.
-- 2024-03-10 06:30 UTC is 01:30 EST in New York: still 03-10 there, 03-10
-- 19:30 in Auckland.  One purchase day in Auckland per instant, two
-- purchases on one day in UTC and New York.
CREATE TABLE ev (customer_id int, occurred_at timestamptz, amount numeric, channel text);
INSERT INTO ev VALUES
  (1, '2024-03-10 11:30+00', 10, 'web'),
  (1, '2024-03-10 06:30+00', 5, NULL);
SET TimeZone = 'UTC';
SELECT z, day, orders, spend
FROM unnest(ARRAY['Pacific/Auckland', 'UTC', 'America/New_York']) z,
     LATERAL clm.profile_days((SELECT clm.profile(occurred_at, amount, channel, z) FROM ev)) d
ORDER BY z, day;
-- the session's zone does not matter: the same profiles in Tokyo
SET TimeZone = 'Asia/Tokyo';
SELECT z, day, orders, spend
FROM unnest(ARRAY['Pacific/Auckland', 'UTC', 'America/New_York']) z,
     LATERAL clm.profile_days((SELECT clm.profile(occurred_at, amount, channel, z) FROM ev)) d
ORDER BY z, day;
-- instants stay instants, channels are counted, NULL channel counts none
SET TimeZone = 'UTC';
SELECT clm.profile(occurred_at, amount, channel, 'Pacific/Auckland')::text =
       clm.profile(occurred_at, amount, channel, 'Pacific/Auckland')::text AS deterministic,
       clm.first_event(clm.profile(occurred_at, amount, NULL, 'Pacific/Auckland')) AS first_event,
       (SELECT count(*) FROM clm.profile_channels(clm.profile(occurred_at, amount, NULL, 'Pacific/Auckland'))) AS channels_without,
       (SELECT count(*) FROM clm.profile_channels(clm.profile(occurred_at, amount, channel, 'Pacific/Auckland'))) AS channels_with
FROM ev;

-- Generated events of 300 customers over two years, in three zones with
-- DST: the named-zone profile equals the profile built in a session set to
-- that zone (the existing form), byte for byte, from a session in another
-- zone; numeric and float8 amounts.
CREATE TABLE gen AS
  SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events(300, seed => 21);
CREATE FUNCTION pg_temp.mismatches(zone text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  PERFORM pg_catalog.set_config('TimeZone', zone, true);
  CREATE TEMP TABLE ref ON COMMIT DROP AS
    SELECT customer_id, clm.profile(occurred_at, amount, channel)::text AS a,
           clm.profile(occurred_at, amount::float8, channel)::text AS f
    FROM gen GROUP BY customer_id;
  PERFORM pg_catalog.set_config('TimeZone', 'Asia/Kolkata', true);
  SELECT count(*) INTO n
  FROM ref JOIN (SELECT customer_id, clm.profile(occurred_at, amount, channel, zone)::text AS a,
                        clm.profile(occurred_at, amount::float8, channel, zone)::text AS f
                 FROM gen GROUP BY customer_id) z USING (customer_id)
  WHERE ref.a <> z.a OR ref.f <> z.f;
  DROP TABLE ref;
  RETURN n + 300 - (SELECT count(DISTINCT customer_id) FROM gen);
END $$;
BEGIN;
SELECT pg_temp.mismatches('Pacific/Auckland') AS auckland,
       pg_temp.mismatches('America/Los_Angeles') AS los_angeles,
       pg_temp.mismatches('Australia/Lord_Howe') AS lord_howe;
COMMIT;
-- and the zone matters for these data (the test above can fail)
SELECT count(*) > 0 AS some_differ
FROM (SELECT customer_id, clm.profile(occurred_at, amount, channel, 'Pacific/Auckland')::text AS a,
             clm.profile(occurred_at, amount, channel, 'UTC')::text AS u
      FROM gen GROUP BY customer_id) s WHERE a <> u;

-- the zone may change from row to row: each row's day in its own zone
-- (independently: the local date of each instant)
SELECT (SELECT array_agg(day ORDER BY day) FROM clm.profile_days(
          (SELECT clm.profile(t, 1::numeric, NULL, z) FROM (VALUES
             ('2024-06-30 23:30+00'::timestamptz, 'UTC'),
             ('2024-06-30 23:30+00', 'Asia/Tokyo'),
             ('2024-06-30 23:30+00', 'America/Chicago'),
             ('2024-06-30 23:30+00', 'Asia/Tokyo')) v(t, z))))
     = (SELECT array_agg(DISTINCT d ORDER BY d) FROM (VALUES
             (('2024-06-30 23:30+00'::timestamptz AT TIME ZONE 'UTC')::date),
             (('2024-06-30 23:30+00'::timestamptz AT TIME ZONE 'Asia/Tokyo')::date),
             (('2024-06-30 23:30+00'::timestamptz AT TIME ZONE 'America/Chicago')::date)) v(d))
       AS per_row_zone;

-- parallel = serial (the combine function merges the named-zone states)
CREATE TABLE big AS SELECT * FROM gen, generate_series(1, 4) k;
ANALYZE big;
SET TimeZone = 'UTC';
SET max_parallel_workers_per_gather = 0;
CREATE TABLE ser AS SELECT customer_id, clm.profile(occurred_at, amount, channel, 'Pacific/Auckland') AS p FROM big GROUP BY 1;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT clm.profile_merge(p) FROM (SELECT clm.profile(occurred_at, amount, channel, 'Pacific/Auckland') AS p FROM big) s;
SELECT (SELECT clm.profile(occurred_at, amount, channel, 'Pacific/Auckland') FROM big WHERE customer_id < 50)::text
     = (SELECT clm.profile_merge(p) FROM ser WHERE customer_id < 50)::text AS parallel_equals_serial;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET enable_hashagg;

-- errors: unknown zone, abbreviations and numeric offsets (22023), NULL
-- zone (22004), a zone name too long (22023); a NULL occurred_at row is
-- skipped before the zone is read
\set VERBOSITY sqlstate
SELECT clm.profile(occurred_at, amount, channel, 'Mars/Olympus_Mons') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, 'NZDT') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, '+05:30') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, '-3') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, '') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, repeat('x', 300)) FROM ev;
SELECT clm.profile(occurred_at, amount, channel, NULL) FROM ev;
SELECT clm.profile(occurred_at, amount::float8, channel, NULL) FROM ev;
\set VERBOSITY default
SELECT clm.profile(occurred_at, amount, channel, 'Mars/Olympus_Mons') FROM ev;
SELECT clm.profile(occurred_at, amount, channel, NULL) FROM ev;
SELECT clm.profile(NULL::timestamptz, 1::numeric, NULL, NULL) IS NULL AS null_rows_skipped;
-- infinite instants are refused as in the other forms (22008)
\set VERBOSITY sqlstate
SELECT clm.profile('infinity'::timestamptz, 1::numeric, NULL, 'UTC');
\set VERBOSITY default

RESET TimeZone;
DROP SCHEMA test_profile_zone CASCADE;
