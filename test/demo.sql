-- test/demo.sql: the report printed by test/demo.sh (psql -f, in a throwaway
-- cluster): a tour of the customer journey on clm's sample data, at most 100
-- columns wide.  Each section starts with \echo and is one query, so new
-- sections can be appended.  psql variables (set by demo.sh, defaults here):
--   customers  number of sample customers     (20000)
--   seed       generator seed                 (42)
--   as_of      the date the report describes  (2025-01-01, the end of the sample data)
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off
\pset null '-'
SET client_min_messages = warning;
SET TimeZone = 'UTC';
\if :{?customers} \else \set customers 20000 \endif
\if :{?seed} \else \set seed 42 \endif
\if :{?as_of} \else \set as_of 2025-01-01 \endif

CREATE EXTENSION IF NOT EXISTS clm;

\echo
\echo '== clm demo: ':customers' sample customers from clm.generate_events(':customers', seed => ':seed')'
\echo '   They join during 2023; their events run from 2023-01-01 to 2025-01-01 (exclusive),'
\echo '   the end of the sample data. The report describes the customers as of ':as_of'.'
DROP TABLE IF EXISTS events, profiles;
CREATE TABLE events AS
    SELECT * FROM clm.generate_events(:customers, seed => :seed);

-- one clm.profile per customer: one pass over the events
CREATE TABLE profiles AS
    SELECT customer_id, clm.profile(occurred_at, amount, channel) AS profile
    FROM events
    GROUP BY customer_id;
ANALYZE events, profiles;

SELECT count(*)                                    AS events,
       count(*) FILTER (WHERE amount IS NOT NULL)  AS purchases,
       count(DISTINCT customer_id)                 AS customers,
       min(occurred_at)::date                      AS first_day,
       max(occurred_at)::date                      AS last_day,
       (SELECT round(avg(pg_column_size(profile))) FROM profiles) AS profile_bytes
FROM events;

\echo '== Where are the customers in their journey? Lifecycle stage as of' :as_of
\echo '   (days since the last purchase against the customer''s own usual gap; docs/journey.md)'
WITH s AS (
    SELECT coalesce(s.stage, 'no event yet') AS stage, count(*) AS customers
    FROM profiles, clm.stage(profile, DATE :'as_of') AS s
    GROUP BY 1
)
SELECT stage, customers,
       round(100.0 * customers / sum(customers) OVER (), 1) AS pct,
       repeat('#', ceil(40.0 * customers / max(customers) OVER ())::int) AS share
FROM s
ORDER BY array_position(ARRAY['prospect', 'new', 'active', 'reactivated', 'at_risk',
                              'lapsed', 'churned'], stage) NULLS LAST;

\echo '== This week: lifecycle counts of the last four whole weeks (Monday to Sunday; a week'
\echo '   that has not ended by' :as_of 'is left out, as in every clm view)'
WITH w AS (
    -- the last Sunday on or before as_of: the end of the last whole week
    SELECT DATE :'as_of' - extract(isodow FROM DATE :'as_of')::int % 7 AS last_sunday
)
SELECT r.period_start AS week_start, r.new_customers AS new, r.returning_customers AS returning,
       r.resurrecting_customers AS resurrecting, r.dormant_customers AS dormant,
       r.active_customers AS active, round(r.pulse::numeric, 2) AS pulse
FROM w, LATERAL (SELECT clm.lifecycle(profile, w.last_sunday - 27, w.last_sunday, 'week') AS v
                 FROM profiles) x,
     clm.lifecycle_rows(x.v) r
ORDER BY r.period_start;
\echo '   pulse = (new + resurrecting) / dormant: above 1 the active base grows'

\echo '== Do customers come back? % of each 2023 monthly cohort (first purchase) who bought'
\echo '   again 1, 3, 6 and 12 months later'
SELECT r.cohort, max(r.cohort_customers) AS customers,
       round(100 * max(r.retention_rate) FILTER (WHERE r.period_offset = 1)) AS "1 month",
       round(100 * max(r.retention_rate) FILTER (WHERE r.period_offset = 3)) AS "3 months",
       round(100 * max(r.retention_rate) FILTER (WHERE r.period_offset = 6)) AS "6 months",
       round(100 * max(r.retention_rate) FILTER (WHERE r.period_offset = 12)) AS "12 months"
FROM (SELECT clm.retention(profile, DATE '2023-01-01', DATE :'as_of', 'month') AS v
      FROM profiles) x,
     clm.retention_rows(x.v) r
WHERE r.cohort BETWEEN DATE '2023-01-01' AND DATE '2023-06-01'
GROUP BY r.cohort
ORDER BY r.cohort;

\echo
\echo '== A tracked source: clm.track builds the schema demo_crm of tables and views for BI tools'
DO $$ BEGIN PERFORM clm.untrack(name) FROM clm.tracked_sources WHERE name = 'demo_crm'; END $$;
DROP SCHEMA IF EXISTS demo_crm CASCADE;
SELECT action, events, customers, refit, views_refreshed
FROM clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel',
               target_schema => 'demo_crm',
               settings => jsonb_build_object('as_of', :'as_of', 'clv_horizon_weeks', 52));

\echo '   500 more customers arrive; clm.refresh merges only their events'
INSERT INTO events
    SELECT * FROM clm.generate_events(500, seed => :seed + 1, first_customer => :customers + 1);
SELECT action, events, customers_changed, customers FROM clm.refresh('demo_crm', views => true);

\echo '== demo_crm.segment_summary: RFM segments (customers ranked against each other)'
\echo '   How to read: R, F, M score recency, purchase days and spend from 1 to 5 against the'
\echo '   other customers, so a segment is relative; clv_52w is the model''s value of the next'
\echo '   52 weeks and churn the chance the customer has already left, which is high even for'
\echo '   "champions" when most of the base has gone quiet, and near 1 for "can''t lose them".'
SELECT segment, customers, round(revenue) AS revenue, round(mean_clv::numeric, 2) AS clv_52w,
       round(mean_churn_probability::numeric, 2) AS churn, at_risk_customers AS in_at_risk
FROM demo_crm.segment_summary
ORDER BY revenue DESC;

\echo '== The ten at-risk customers with the highest CLV: overdue against their own rhythm,'
\echo '   still likely to be alive, worth a message on their preferred channel'
SELECT customer_id, days_since_last_purchase AS days_since, round(expected_gap_days) AS usual_gap,
       rfm_segment, round(p_alive::numeric, 2) AS p_alive, round(clv::numeric, 2) AS clv_52w,
       preferred_channel AS channel
FROM demo_crm.customers
WHERE stage = 'at_risk'
ORDER BY clv DESC NULLS LAST, customer_id
LIMIT 10;

\echo
\echo '== The same as one HTML page: charts, no script, nothing loaded from the network'
\if :{?report_file} \else \set report_file report.html \endif
\pset tuples_only on
\pset format unaligned
\o :report_file
SELECT clm.report('demo_crm');
\o
\pset format aligned
\pset tuples_only off
\echo '   clm.report(''demo_crm'') wrote' :report_file '(open it in a browser; docs/report.md)'

\echo '== Where to read next'
\echo '   README.md          the guide: install, a short tour of these queries'
\echo '   docs/cookbook.md   questions analysts ask, one query each (win-backs, NPS by stage, ...)'
\echo '   docs/journey.md    stages, lifecycle counts, cohorts   docs/rfm.md  RFM segments, NPS'
\echo '   docs/models.md     CLV and churn models     docs/tracked-sources.md  views for BI tools'
\echo '   docs/report.md     the HTML report: what each chart shows, clm.report_profiles'
\echo '   test/demo.sql      the queries of this report'
