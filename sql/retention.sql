-- Cohort retention: clm.retention and clm.retention_rows.
-- Every answer below is worked out by hand.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

CREATE TEMP TABLE ev (customer text, occurred_at date, amount numeric);
INSERT INTO ev VALUES
  -- r1: cohort Jan 2025, buys at offsets 0, 1, 3
  ('r1', '2025-01-05', 10), ('r1', '2025-02-10', 20), ('r1', '2025-04-01', 5),
  -- r2: cohort Jan (two orders on Jan 31), a refund at offset 2 (not a purchase)
  ('r2', '2025-01-31', 10), ('r2', '2025-01-31', 10), ('r2', '2025-03-15', -4),
  -- r3: earlier activity does not make a cohort; first purchase Feb 28 -> cohort Feb
  ('r3', '2024-12-20', NULL), ('r3', '2025-02-28', 30), ('r3', '2025-03-01', 15),
  -- r4: first purchase Dec 2024, before cohorts_from: left out
  ('r4', '2024-12-15', 10), ('r4', '2025-01-10', 10),
  -- r5: cohort Apr (Apr 30); the May purchase is after as_of
  ('r5', '2025-04-30', 8), ('r5', '2025-05-02', 8),
  -- r6: activity only, no cohort
  ('r6', '2025-01-03', NULL);
CREATE TEMP TABLE pr AS
  SELECT customer, clm.profile(occurred_at, amount) AS p FROM ev GROUP BY customer;

-- Exact, monthly, cohorts Jan .. Apr 2025, as_of 2025-04-30 (April complete):
--  Jan (r1, r2; size 2): off 0: 2 retained, revenue 10 + 20 = 30; off 1: r1, 20;
--    off 2: nobody, revenue -4 (r2's refund); off 3: r1, 5
--  Feb (r3; size 1): off 0: 1, 30; off 1: 1, 15; off 2: 0, 0
--  Mar: no customer, no rows.   Apr (r5): off 0: 1, 8
--  all cohorts (only those complete for the offset): off 0: 4 of 4, 68;
--    off 1: Jan + Feb: 2 of 3, 35; off 2: 0 of 3, -4; off 3: Jan: 1 of 2, 5
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month') AS v FROM pr) s,
     clm.retention_rows(s.v) r;

-- as_of 2025-04-29: April is not complete, and r5 has no purchase yet.
-- Jan: offsets 0 .. 2; Feb: 0 .. 1; the all-cohort denominators are
-- off 0: 3, off 1: 3, off 2: 2 (Feb's offset 2 is April, not complete).
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-04-29', 'month') AS v FROM pr) s,
     clm.retention_rows(s.v) r WHERE r.cohort IS NULL;

-- On or after (bought in the offset month or later, up to as_of):
--  Jan: r1's last purchase is at offset 3, r2's at 0:
--    off 0: 2, revenue 10+20+5+20-4 = 51; off 1: 1, 20+5-4 = 21;
--    off 2: 1, -4+5 = 1; off 3: 1, 5
--  Feb: off 0: 1, 45; off 1: 1, 15; off 2: 0, 0.   Apr: off 0: 1, 8
--  all: off 0: 4 of 4, 104; off 1: 2 of 3, 36; off 2: 1 of 3, 1; off 3: 1 of 2, 5
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', 'on_or_after') AS v FROM pr) s,
     clm.retention_rows(s.v) r;

-- Brackets ARRAY[0, 1, 3]: offsets 0 and 1 .. 2.
--  Jan: [0]: 2, 30; [1-2]: r1, 20 - 4 = 16.  Feb: [0]: 1, 30; [1-2] (ends
--  in April, complete): 1, 15.  Apr: [0]: 1, 8; [1-2] ends in June: no row.
--  all: [0]: 4 of 4, 68; [1-2]: 2 of 3, 31
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', ARRAY[0, 1, 3]) AS v FROM pr) s,
     clm.retention_rows(s.v) r;

-- Weeks.  Monday weeks, cohorts_from 2025-01-01, as_of Sunday 2025-01-19:
-- weeks Dec 30, Jan 6, Jan 13.  r1 (Sunday Jan 5) is in the cohort of
-- Dec 30: off 0: 1, 10; off 1: 0; off 2: 0 (Jan 13 .. 19 is complete).
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-01-19', 'week') AS v FROM pr) s,
     clm.retention_rows(s.v) r WHERE r.cohort IS NOT NULL;
-- Sunday weeks: Dec 29, Jan 5, Jan 12, Jan 19; r1 is in the cohort of Jan 5:
-- off 0 (Jan 5 .. 11): 1, 10; off 1 (Jan 12 .. 18): 0; off 2 (from Jan 19) not complete.
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-01', '2025-01-19', 'week', 'exact', NULL, 7) AS v FROM pr) s,
     clm.retention_rows(s.v) r WHERE r.cohort IS NOT NULL;
-- Days: r1 and r6 from 2025-01-03 to 2025-01-06: r1's cohort is Jan 5:
-- off 0: 1, 10; off 1: 0, 0.
SELECT r.* FROM (SELECT clm.retention(p, '2025-01-03', '2025-01-06', 'day') AS v
                 FROM pr WHERE customer IN ('r1', 'r6')) s,
     clm.retention_rows(s.v) r WHERE r.cohort IS NOT NULL;

-- The value is a storable bigint[] (layout in src/retention.c)
SELECT (SELECT clm.retention(p, '2025-01-01', '2025-02-28', 'month') FROM pr)::text;

-- Bad inputs.
\set VERBOSITY sqlstate
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', 'rolling') FROM pr;
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', ARRAY[3, 1]) FROM pr;
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', ARRAY[0]) FROM pr;
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', ARRAY[0, NULL]) FROM pr;
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'month', ARRAY[-1, 2]) FROM pr;
SELECT clm.retention(p, '2025-05-01', '2025-04-30', 'month') FROM pr;
SELECT clm.retention(p, '2015-01-01', '2025-04-30', 'day') FROM pr;
SELECT clm.retention(p, '2025-01-01', 'infinity', 'month') FROM pr;
SELECT clm.retention(p, '2025-01-01', '2025-04-30', 'fortnight') FROM pr;
SELECT * FROM clm.retention_rows('{1,2,3}');
-- a valid value read back, then corrupted: retained > cohort size, wrong
-- length, negative cohort size, cohorts not matching the range
SELECT * FROM clm.retention_rows('{1,9132,9190,3,1,1,24300,2,2,0,2,1,2,1,1,0,300000,200000,300000,0}');
SELECT * FROM clm.retention_rows('{1,9132,9190,3,1,1,24300,2,2,0,2,1,5,1,1,0,300000,200000,300000,0}');
SELECT * FROM clm.retention_rows('{1,9132,9190,3,1,1,24300,2,2,0,2,1,2,1,1,0,300000,200000,300000}');
SELECT * FROM clm.retention_rows('{1,9132,9190,3,1,1,24300,2,2,0,-2,1,2,1,1,0,300000,200000,300000,0}');
SELECT * FROM clm.retention_rows('{1,9132,9190,3,1,1,24301,2,2,0,2,1,2,1,1,0,300000,200000,300000,0}');
\set VERBOSITY default
