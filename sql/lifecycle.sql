-- Lifecycle counts per period: clm.lifecycle and clm.lifecycle_rows.
-- Every answer below is worked out by hand.
SET TimeZone = 'Europe/Berlin';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- Profiles are built in Europe/Berlin.  Berlin moved to summer time on
-- Sunday 2025-03-30 (02:00 -> 03:00).  u2's two events are local Sunday
-- 2025-03-30 23:30 and local Monday 2025-03-31 00:30: in UTC both fall on
-- Sunday 03-30, but the profile keeps the local days.  u6's events are local
-- 2025-01-31 23:30 and 2025-02-01 00:10 (both January in UTC).
CREATE TEMP TABLE ev (customer text, occurred_at timestamptz, amount numeric);
INSERT INTO ev VALUES
  ('u1', '2025-02-10 12:00', 10), ('u1', '2025-03-04 12:00', 10),
  ('u1', '2025-03-11 12:00', 10), ('u1', '2025-04-02 12:00', 10),
  ('u2', '2025-03-30 23:30', NULL), ('u2', '2025-03-31 00:30', NULL),
  ('u3', '2025-03-09 23:59', 10),
  ('u4', '2025-03-05 12:00', NULL), ('u4', '2025-03-19 12:00', 10),
  ('u5', '2025-02-26 12:00', 10), ('u5', '2025-03-06 12:00', 10),
  ('u6', '2025-01-31 23:30', 10), ('u6', '2025-02-01 00:10', 10);
CREATE TEMP TABLE pr AS
  SELECT customer, clm.profile(occurred_at, amount) AS p FROM ev GROUP BY customer;
SELECT customer, d.day FROM pr, clm.profile_days(p) d WHERE customer IN ('u2', 'u6') ORDER BY 1, 2;

-- Any later session time zone reads the same days.
SET TimeZone = 'America/Los_Angeles';

-- ISO weeks (Monday) over 2025-03-03 .. 2025-04-06: W0 Mar 3, W1 Mar 10,
-- W2 Mar 17, W3 Mar 24, W4 Mar 31.  Active weeks: u1 Feb 10, W0, W1, W4;
-- u2 W3, W4; u3 W0 (Sunday Mar 9 local); u4 W0, W2; u5 Feb 24 (= W0 - 1), W0;
-- u6 Jan 27 only.
--  W0: new u3, u4 (2); returning u5 (1); resurrecting u1 (1, last active
--      Feb 10); dormant 0; pulse NULL
--  W1: returning u1; dormant u3, u4, u5 (3); pulse 0/3 = 0
--  W2: resurrecting u4; dormant u1; pulse 1
--  W3: new u2; dormant u4; pulse 1
--  W4: returning u2 (W3 by the local day, not W4 alone as in UTC);
--      resurrecting u1; pulse NULL
SELECT r.* FROM (SELECT clm.lifecycle(p, '2025-03-03', '2025-04-06', 'week') AS lc FROM pr) s,
     clm.lifecycle_rows(s.lc) r;

-- Dormant after K = 2 inactive weeks (counted once, in the 2nd inactive week):
--  u1 W1 -> W4: W2, W3 inactive -> dormant W3; u3 W0 -> dormant W2;
--  u4 W0 -> W2: one inactive week, not dormant; W2 -> dormant W4;
--  u5 W0 -> dormant W2.  Dormant: W2 2, W3 1, W4 1.
SELECT period_start, dormant_customers, pulse
FROM (SELECT clm.lifecycle(p, '2025-03-03', '2025-04-06', 'week', 2, false, 1) AS lc FROM pr) s,
     clm.lifecycle_rows(s.lc);

-- Purchases only: u2 never bought; u4's first purchase is W2.
--  W0: new u3; returning u5; resurrecting u1    W1: returning u1; dormant u3, u5
--  W2: new u4; dormant u1    W3: dormant u4    W4: resurrecting u1
SELECT r.* FROM (SELECT clm.lifecycle(p, '2025-03-03', '2025-04-06', 'week', 1, true, 1) AS lc FROM pr) s,
     clm.lifecycle_rows(s.lc) r;

-- Weeks starting on Sunday (week_start 7): S0 Mar 2 .. S5 Apr 6 (the week
-- holding Apr 6 is included).  u5's Feb 26 is in S0 - 1 = Feb 23.
--  S0: new u4; returning u5; resurrecting u1    S1: new u3; returning u1;
--  dormant u4, u5    S2: resurrecting u4; dormant u1, u3    S3: dormant u4
--  S4: new u2 (both local days are in the week of Sunday Mar 30);
--  resurrecting u1    S5: dormant u1, u2
SELECT r.* FROM (SELECT clm.lifecycle(p, '2025-03-03', '2025-04-06', 'week', 1, false, 7) AS lc FROM pr) s,
     clm.lifecycle_rows(s.lc) r;

-- Months over 2025-01-15 .. 2025-04-10 for u1 and u6 (whole months Jan .. Apr):
--  Jan: new u6    Feb: new u1, returning u6 (Feb 1 local)    Mar: returning u1,
--  dormant u6    Apr: returning u1
SELECT r.* FROM (SELECT clm.lifecycle(p, '2025-01-15', '2025-04-10', 'month') AS lc
                 FROM pr WHERE customer IN ('u1', 'u6')) s,
     clm.lifecycle_rows(s.lc) r;

-- Days, and a customer whose history starts after the range (not counted);
-- u3 on 2025-03-09: new; 03-10: dormant.
SELECT r.* FROM (SELECT clm.lifecycle(p, '2025-03-08', '2025-03-11', 'day') AS lc
                 FROM pr WHERE customer IN ('u3', 'u2')) s,
     clm.lifecycle_rows(s.lc) r;

-- The value is a storable bigint[]: it survives a text round trip, and NULL
-- profiles are skipped.
SELECT (SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', 'week') FROM pr)::text;
SELECT r.* FROM clm.lifecycle_rows('{1,9193,9206,2,1,1,0,1314,2,2,1,1,0,0,1,0,3}') r;
SELECT clm.lifecycle(NULL::clm.profile, '2025-03-03', '2025-03-16', 'week');

-- Bad inputs.
\set VERBOSITY sqlstate
SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', 'quarter') FROM pr;
SELECT clm.lifecycle(p, '2025-03-16', '2025-03-03', 'week') FROM pr;
SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', 'week', 0, false, 1) FROM pr;
SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', 'week', 1, false, 8) FROM pr;
SELECT clm.lifecycle(p, '2025-03-03', 'infinity', 'week') FROM pr;
SELECT clm.lifecycle(p, '1000-01-01', '2025-01-01', 'day') FROM pr;
SELECT clm.lifecycle(p, '2025-03-03', x, 'week') FROM pr, (VALUES (date '2025-03-16'), ('2025-03-23')) v(x);
SELECT * FROM clm.lifecycle_rows('{1,2,3}');
SELECT * FROM clm.lifecycle_rows('{2,9193,9206,2,1,1,0,1314,2,2,1,1,0,0,1,0,3}');
SELECT * FROM clm.lifecycle_rows('{1,9193,9206,2,1,1,0,1314,3,2,1,1,0,0,1,0,3}');
SELECT * FROM clm.lifecycle_rows('{1,9193,9206,2,1,1,0,1314,2,2,-1,1,0,0,1,0,3}');
SELECT * FROM clm.lifecycle_rows('{1,9193,9206,2,1,1,0,1314,2,2,1,1,0,0,1,0,NULL}');
SELECT * FROM clm.lifecycle_rows('{1,9193,9206,9,1,1,0,1314,2,2,1,1,0,0,1,0,3}');
SELECT * FROM clm.lifecycle_rows('{1,9193,9206,2,1,1,0,1300,2,2,1,1,0,0,1,0,3}');
\set VERBOSITY default
-- parameters that change between rows, and dates past year 100000
\set VERBOSITY sqlstate
SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', x) FROM pr, (VALUES ('week'), ('month')) v(x);
SELECT clm.lifecycle(p, '2025-03-03', '2025-03-16', 'week', 1, x, 1) FROM pr, (VALUES (true), (false)) v(x);
SELECT clm.lifecycle(p, '99999-12-01', '100000-01-02', 'month') FROM pr;
\set VERBOSITY default
SELECT r.* FROM (SELECT clm.lifecycle(p, '99999-12-01', '99999-12-31', 'month') AS lc FROM pr) s,
     clm.lifecycle_rows(s.lc) r;
