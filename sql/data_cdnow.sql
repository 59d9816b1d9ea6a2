--
-- The CDNOW sample (Fader, Hardie & Lee 2005): profiles built from the raw
-- transaction log reproduce the published calibration summary for all 2,357
-- customers: x, t_x and T in weeks as of 1997-09-30, and the mean repeat
-- spend, to the file's two-decimal rounding.
-- Reads $CLM_DATA_DIR (../shared/data); the test runner skips this test when
-- that folder is absent.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_data_cdnow;
SET search_path = test_data_cdnow, public;
\getenv clm_data CLM_DATA_DIR
\set sample_file :clm_data '/CDNOW_sample.txt'
\set summary_file :clm_data '/cdnow_customers_summary_with_transactions.csv'

-- raw log: " 00004 0001 19970101  2   29.33\r" (master id, sample id, day, CDs, dollars)
CREATE TABLE raw (line text);
COPY raw FROM :'sample_file';
CREATE TABLE tx AS
  SELECT f[2]::int AS id, to_date(f[3], 'YYYYMMDD') AS day, f[4]::int AS cds, f[5]::numeric AS dollars
  FROM (SELECT regexp_split_to_array(btrim(line, E' \r'), ' +') AS f FROM raw) s;
SELECT count(*) AS rows, count(DISTINCT id) AS customers, count(DISTINCT (id, day)) AS customer_days,
       count(*) FILTER (WHERE dollars = 0) AS zero_rows
FROM tx;

-- published summary (ID, x, t_x, T, zbar)
CREATE TABLE published (id int, x int, t_x numeric, big_t numeric, zbar numeric);
COPY published FROM :'summary_file' WITH (FORMAT csv, HEADER true);

-- profiles from the raw log (date variant of the aggregate)
CREATE TABLE cdnow AS SELECT id, clm.profile(day, dollars) AS p FROM tx GROUP BY id;

-- compare every customer; weeks = days / 7
CREATE TABLE cmp AS
SELECT pub.id, pub.x, pub.t_x, pub.big_t, pub.zbar,
       s.frequency, round(s.recency_days / 7.0, 2) AS t_x_weeks,
       round(s.tenure_days / 7.0, 2) AS t_weeks, round(s.monetary, 2) AS zbar_ours
FROM published pub
LEFT JOIN cdnow c USING (id)
LEFT JOIN LATERAL clm.summary(c.p, '1997-09-30') s ON true;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE frequency = x) AS x_equal,
       count(*) FILTER (WHERE t_x_weeks = t_x) AS t_x_equal,
       count(*) FILTER (WHERE t_weeks = big_t) AS t_equal,
       count(*) FILTER (WHERE zbar_ours = zbar) AS zbar_equal
FROM cmp;
-- totals from the data README: sum x = 2,457; 946 customers with x > 0;
-- T ranges from 27.00 to 38.86 weeks
SELECT sum(frequency) AS sum_x, count(*) FILTER (WHERE frequency > 0) AS repeaters,
       min(t_weeks) AS t_min, max(t_weeks) AS t_max
FROM cmp;
-- any customer that differs is listed here (none)
SELECT * FROM cmp
WHERE frequency IS DISTINCT FROM x OR t_x_weeks IS DISTINCT FROM t_x
   OR t_weeks IS DISTINCT FROM big_t OR zbar_ours IS DISTINCT FROM zbar
ORDER BY id LIMIT 10;

-- customer 1516 (the heavy buyer in the papers' examples): x = 26,
-- t_x = 30.86, T = 31.00, zbar 39.97
SELECT id, frequency, t_x_weeks, t_weeks, zbar_ours FROM cmp WHERE id = 1516;
-- customer 1: repeat days 1997-01-18 (29.73) and 1997-08-02 (14.96) as of
-- 1997-09-30: x = 2, t_x = 213/7 = 30.43, T = 272/7 = 38.86,
-- zbar = (29.73 + 14.96) / 2 = 22.345 -> 22.35
SELECT (clm.summary(p, '1997-09-30')).* FROM cdnow WHERE id = 1;

-- the same inputs through clm.btyd_inputs (weeks): every customer agrees
SELECT count(*) AS customers,
       count(*) FILTER (WHERE b.x = pub.x AND round(b.t_x::numeric, 2) = pub.t_x
                          AND round(b.t::numeric, 2) = pub.big_t AND round(b.mean_spend, 2) = pub.zbar) AS equal
FROM published pub JOIN cdnow c USING (id), clm.btyd_inputs(c.p, '1997-09-30', 'week') b;
-- customer 1 in days and months: t_x = 213 days = 213 / 30.4375 = 6.998 months
SELECT * FROM clm.btyd_inputs((SELECT p FROM cdnow WHERE id = 1), '1997-09-30', 'day');
SELECT round(t_x::numeric, 3) AS t_x_months, round(t::numeric, 3) AS t_months
FROM clm.btyd_inputs((SELECT p FROM cdnow WHERE id = 1), '1997-09-30', 'month');
-- before the first purchase: NULL; a bad unit: 22023
SELECT clm.btyd_inputs(p, '1996-12-31') IS NULL AS not_yet_acquired FROM cdnow WHERE id = 1;
\set VERBOSITY sqlstate
SELECT clm.btyd_inputs(p, '1997-09-30', 'fortnight') FROM cdnow WHERE id = 1;
