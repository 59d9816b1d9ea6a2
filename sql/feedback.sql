--
-- NPS and CSAT aggregates: hand examples, NULLs, empty input, bad answers,
-- parallel plan equals serial plan.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

CREATE TABLE fb_answers (grp text, nps_score int, csat_score int);
-- Group a, 10 answers and a NULL:
--   NPS 10, 10, 10, 9, 9, 8, 7, 6, 3, 0: promoters P = 5 (9-10), passives 2
--   (7-8), detractors D = 3 (0-6); p = 0.5, d = 0.3
--   NPS = 100 (0.5 - 0.3) = 20
--   var = (p + d - (p - d)^2) / n = (0.8 - 0.04) / 10 = 0.076
--   MoE = 1.96 * sqrt(0.076) * 100 = 1.96 * 0.2756810 * 100 = 54.0335
--   CSAT 5, 5, 4, 4, 4, 3, 2, 1, 5, 4: satisfied (4-5) = 7 of 10: 70%
--   MoE = 1.96 * sqrt(0.7 * 0.3 / 10) * 100 = 1.96 * 0.1449138 * 100 = 28.4031
-- Group b, 3 answers: NPS 10, 0, 8: p = d = 1/3, NPS = 0,
--   var = (2/3 - 0) / 3 = 2/9, MoE = 1.96 * 0.4714045 * 100 = 92.3953;
--   CSAT 5, 5, 5: 100%, MoE 0.
-- Group c: only NULLs: NULL.
INSERT INTO fb_answers VALUES
  ('a', 10, 5), ('a', 10, 5), ('a', 10, 4), ('a', 9, 4), ('a', 9, 4),
  ('a', 8, 3), ('a', 7, 2), ('a', 6, 1), ('a', 3, 5), ('a', 0, 4), ('a', NULL, NULL),
  ('b', 10, 5), ('b', 0, 5), ('b', 8, 5),
  ('c', NULL, NULL);
SELECT grp, (n).nps, round((n).margin_of_error_95::numeric, 4) AS nps_moe,
       (n).respondents, (n).promoters, (n).passives, (n).detractors,
       (c).csat, round((c).margin_of_error_95::numeric, 4) AS csat_moe,
       (c).respondents AS csat_n, (c).satisfied
FROM (SELECT grp, clm.nps(nps_score) AS n, clm.csat(csat_score) AS c
      FROM fb_answers GROUP BY grp) x
ORDER BY grp;
-- all of them: NPS 10,10,10,9,9,8,7,6,3,0,10,0,8: P = 6, passives 3, D = 4,
-- n = 13: NPS = 100 * 2 / 13 = 15.3846; CSAT 10 satisfied of 13 = 76.9231
SELECT round((clm.nps(nps_score)).nps::numeric, 4) AS nps,
       round((clm.csat(csat_score)).csat::numeric, 4) AS csat
FROM fb_answers;
-- no rows: NULL
SELECT clm.nps(nps_score) IS NULL AS nps_null, clm.csat(csat_score) IS NULL AS csat_null
FROM fb_answers WHERE false;

-- Out-of-range answers are errors.
\set VERBOSITY sqlstate
SELECT clm.nps(s) FROM (VALUES (5), (11)) v(s);
SELECT clm.nps(s) FROM (VALUES (-1)) v(s);
SELECT clm.csat(s) FROM (VALUES (0)) v(s);
SELECT clm.csat(s) FROM (VALUES (6)) v(s);
SELECT clm.nps_final('{1,2}');
\set VERBOSITY default
SELECT clm.nps(s) FROM (VALUES (11)) v(s);
SELECT clm.csat(s) FROM (VALUES (0)) v(s);

-- Parallel plan equals serial plan (200,000 answers in 7 groups).
CREATE TABLE fb_many AS
  SELECT i % 7 AS grp,
         CASE WHEN i % 13 = 0 THEN NULL ELSE (hashint4(i) & 1023) % 11 END AS nps_score,
         1 + (hashint4(i * 3) & 1023) % 5 AS csat_score
  FROM generate_series(1, 200000) i;
ANALYZE fb_many;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE fb_s AS SELECT grp, clm.nps(nps_score)::text AS n, clm.csat(csat_score)::text AS c FROM fb_many GROUP BY grp;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT grp, clm.nps(nps_score), clm.csat(csat_score) FROM fb_many GROUP BY grp;
CREATE TABLE fb_p AS SELECT grp, clm.nps(nps_score)::text AS n, clm.csat(csat_score)::text AS c FROM fb_many GROUP BY grp;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.n IS DISTINCT FROM p.n OR s.c IS DISTINCT FROM p.c) AS differ
FROM fb_s s FULL JOIN fb_p p USING (grp);
-- and the counts agree with plain SQL
SELECT (clm.nps(nps_score)).promoters = count(*) FILTER (WHERE nps_score >= 9) AS promoters,
       (clm.nps(nps_score)).detractors = count(*) FILTER (WHERE nps_score <= 6) AS detractors,
       (clm.csat(csat_score)).satisfied = count(*) FILTER (WHERE csat_score >= 4) AS satisfied
FROM fb_many;
