-- test/upgrade/setup.sql: stored clm values of every kind, made with the
-- clm version installed in the database (0.1 before the update, or 0.2 for
-- a fresh install): the same data and the same calls on both, so that the
-- values and the answers of test/upgrade/results.sql can be compared.
SET TimeZone = 'UTC';
CREATE TABLE ev AS
  SELECT customer_id, occurred_at, amount, channel
  FROM clm.generate_events(300, seed => 11);
-- a refund, a channel name with quotes and non-ASCII text, a NULL amount (a visit)
INSERT INTO ev VALUES (1, '2024-03-01 10:00+00', -12.5, E'q"uo\\te'),
                      (1, '2024-03-02 10:00+00', NULL, 'café');
CREATE TABLE prm AS SELECT min(occurred_at)::date AS first_day, max(occurred_at)::date + 1 AS as_of FROM ev;
CREATE TABLE profiles AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p FROM ev GROUP BY customer_id;
CREATE TABLE models (name text PRIMARY KEY, m clm.model);
INSERT INTO models
  SELECT 'bgnbd', clm.bgnbd_fit(p, prm.as_of, 'week') FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'mbgnbd', clm.mbgnbd_fit(p, prm.as_of, 'week') FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'paretonbd', clm.paretonbd_fit(p, prm.as_of, 'week') FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'gg', clm.gg_fit(p, prm.as_of, 'week') FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'bgbb', clm.make_model('bgbb', '{1.204,0.750,0.657,2.783}')
  UNION ALL SELECT 'sbg', clm.sbg_fit(k::float8, k < 7, 10.0 / k) FROM generate_series(1, 8) k;
CREATE TABLE breakpoints (name text PRIMARY KEY, bp clm.rfm_breakpoints);
INSERT INTO breakpoints
  SELECT 'quantile5', clm.rfm_breakpoints(p, prm.as_of) FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'quantile3', clm.rfm_breakpoints(p, prm.as_of, 3) FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'fixed', clm.rfm_breakpoints_fixed('{365,180,90,30}', '{2,3,5,10}', '{50,100.25,500,1000}');
-- a custom segment map: three rules
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority, r_min, r_max, f_min, description)
VALUES ('mine', 1, 'fresh', 1, 4, 5, 1, 'recent'),
       ('mine', 2, 'loyal', 2, 1, 5, 4, 'frequent'),
       ('mine', 3, 'other', 9, 1, 5, 1, NULL);
-- results of the array-valued aggregates, kept to be expanded later
CREATE TABLE arrays (name text PRIMARY KEY, a bigint[]);
INSERT INTO arrays
  SELECT 'lifecycle', clm.lifecycle(p, prm.first_day, prm.as_of, 'month') FROM profiles, prm GROUP BY prm.first_day, prm.as_of
  UNION ALL SELECT 'retention', clm.retention(p, prm.first_day, prm.as_of, 'month') FROM profiles, prm GROUP BY prm.first_day, prm.as_of
  UNION ALL SELECT 'stage_counts', clm.stage_counts(p, prm.as_of - 60, prm.as_of) FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'stage_transitions', clm.stage_transitions(p, prm.as_of - 90, prm.as_of) FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'customer_stages', clm.customer_stages(customer_id, p, prm.as_of) FROM profiles, prm GROUP BY prm.as_of
  UNION ALL SELECT 'customer_rfm', clm.customer_rfm(customer_id, p, prm.as_of) FROM profiles, prm GROUP BY prm.as_of;
-- a tracked source (the tracksec tests cover the tracked path in depth)
CREATE TABLE src AS SELECT * FROM ev WHERE customer_id % 3 = 0 AND occurred_at < '2024-06-01';
SELECT action, events > 0 AS read_events FROM clm.track('src', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'shop',
    -- the population gap given: its default changed in 0.2 (0.1: the customers' own, kept by
    -- sources tracked with 0.1; 0.2: 30 days, as clm.stage), which this comparison is not about
    settings => jsonb_build_object('as_of', (SELECT as_of FROM prm), 'population_gap_days', 30));
INSERT INTO src SELECT * FROM ev WHERE customer_id % 3 = 0 AND occurred_at >= '2024-06-01' AND occurred_at < '2024-09-01';
SELECT action FROM clm.refresh('shop', refit => true, views => true);
