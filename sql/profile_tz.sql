--
-- clm.profile: days are calendar days in the session's time zone at
-- aggregation time.
--
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_profile_tz;
SET search_path = test_profile_tz, public;

CREATE TABLE ev (occurred_at timestamptz, amount numeric);
INSERT INTO ev VALUES ('2025-03-01 23:30+00', 10), ('2025-03-02 01:30+00', 20);

-- UTC: two days, 03-01 and 03-02
SET TimeZone = 'UTC';
SELECT day, orders, spend FROM clm.profile_days((SELECT clm.profile(occurred_at, amount) FROM ev));
-- New York (UTC-5 in March before the DST change): 18:30 and 20:30 on 03-01, one day
SET TimeZone = 'America/New_York';
SELECT day, orders, spend FROM clm.profile_days((SELECT clm.profile(occurred_at, amount) FROM ev));
-- Tokyo (UTC+9): 08:30 and 10:30 on 03-02, one day
SET TimeZone = 'Asia/Tokyo';
SELECT day, orders, spend FROM clm.profile_days((SELECT clm.profile(occurred_at, amount) FROM ev));
-- a stored profile keeps the days of the zone it was built in
SET TimeZone = 'Asia/Tokyo';
CREATE TABLE p_tokyo AS SELECT clm.profile(occurred_at, amount) AS p FROM ev;
SET TimeZone = 'UTC';
SELECT (clm.summary(p, '2025-03-01')).orders AS orders_by_0301, (clm.summary(p, '2025-03-02')).orders AS orders_by_0302 FROM p_tokyo;

-- DST in Berlin.  2025-03-30 02:00 CET becomes 03:00 CEST (01:00 UTC);
-- 2025-10-26 03:00 CEST becomes 02:00 CET (01:00 UTC).
--   03-29 23:30 UTC = 03-30 00:30 CET          -> 03-30
--   03-30 21:59 UTC = 03-30 23:59 CEST         -> 03-30
--   03-30 22:00 UTC = 03-31 00:00 CEST         -> 03-31
--   10-25 21:59 UTC = 10-25 23:59 CEST         -> 10-25
--   10-25 22:00 UTC = 10-26 00:00 CEST         -> 10-26
--   10-26 00:30 UTC = 02:30 CEST (first 02:30) -> 10-26
--   10-26 01:30 UTC = 02:30 CET (second 02:30) -> 10-26
--   10-26 22:59 UTC = 10-26 23:59 CET          -> 10-26
--   10-26 23:00 UTC = 10-27 00:00 CET          -> 10-27
SET TimeZone = 'Europe/Berlin';
SELECT day, orders FROM clm.profile_days((
  SELECT clm.profile(t::timestamptz, 1::numeric) FROM (VALUES
    ('2025-03-29 23:30+00'), ('2025-03-30 21:59+00'), ('2025-03-30 22:00+00'),
    ('2025-10-25 21:59+00'), ('2025-10-25 22:00+00'), ('2025-10-26 00:30+00'),
    ('2025-10-26 01:30+00'), ('2025-10-26 22:59+00'), ('2025-10-26 23:00+00')) v(t)));

-- The day of every instant agrees with occurred_at::date (each instant is a
-- purchase, so the order count of every day must equal the rows of that date), in zones with odd
-- offsets, half-hour DST (Lord_Howe), a skipped day (Apia, 2011-12-30),
-- negative DST (Dublin), and for instants before 1900 and after 2100 (where
-- clm falls back from its cached offset table to pg_localtime).
CREATE TABLE instants AS
  SELECT t FROM generate_series('1850-01-01 00:00+00'::timestamptz, '2150-01-01', '1013 minutes 17 seconds') t
  UNION ALL
  SELECT t FROM generate_series('2011-12-28 00:00+00'::timestamptz, '2012-01-02', '7 minutes') t
  UNION ALL
  SELECT t FROM generate_series('2025-03-28 00:00+00'::timestamptz, '2025-04-07', '7 minutes') t
  UNION ALL
  SELECT t FROM generate_series('2025-10-01 00:00+00'::timestamptz, '2025-11-07', '7 minutes') t;
CREATE FUNCTION pg_temp.day_mismatches(zone text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  PERFORM set_config('TimeZone', zone, true);
  SELECT count(*) INTO n
  FROM (SELECT day, orders FROM clm.profile_days((SELECT clm.profile(t, 1::numeric) FROM instants))) a
  FULL JOIN (SELECT t::date AS day, count(*) AS n FROM instants GROUP BY 1) b USING (day)
  WHERE a.orders IS DISTINCT FROM b.n;
  RETURN n;
END $$;
SELECT zone, pg_temp.day_mismatches(zone) AS mismatches
FROM unnest(ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe',
                  'Asia/Kathmandu', 'Pacific/Apia', 'America/Sao_Paulo', 'Africa/Casablanca',
                  'Pacific/Chatham', 'America/St_Johns', 'Europe/Dublin', 'Asia/Tehran',
                  'America/Caracas', 'Pacific/Kiritimati', 'Etc/GMT+12', '+05:30']) zone;
SELECT count(*) AS instants FROM instants;
