-- test/demo.sql: the report printed by test/demo.sh (psql -f, in a throwaway
-- cluster).  Each section starts with \echo and is one or two queries, so new
-- sections can be appended.  psql variables (set by demo.sh, defaults here):
--   customers  number of sample customers     (20000)
--   seed       generator seed                 (42)
--   as_of      the date the report describes  (2025-01-01)
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
\echo '== clm demo: sample events from clm.generate_events(':customers', seed => ':seed')'
DROP TABLE IF EXISTS events, profiles;
CREATE TABLE events AS
    SELECT * FROM clm.generate_events(:customers, seed => :seed);

\echo '== customer profiles: one clm.profile per customer (GROUP BY customer_id)'
CREATE TABLE profiles AS
    SELECT customer_id, clm.profile(occurred_at, amount, channel) AS profile
    FROM events
    GROUP BY customer_id;
ANALYZE events, profiles;

\echo
\echo '== events and customers'
SELECT count(*)                                    AS events,
       count(*) FILTER (WHERE amount IS NOT NULL)  AS purchase_events,
       count(DISTINCT customer_id)                 AS customers,
       min(occurred_at)::date                      AS first_event,
       max(occurred_at)::date                      AS last_event
FROM events;

SELECT count(*)                                    AS profiles,
       round(avg(pg_column_size(profile)))         AS avg_profile_bytes,
       max(pg_column_size(profile))                AS max_profile_bytes
FROM profiles;

\echo '== a few customers, summarised as of' :as_of
SELECT customer_id, s.*
FROM profiles, clm.summary(profile, DATE :'as_of') AS s
ORDER BY customer_id
LIMIT 5;

\echo '== purchase frequency (repeat purchase days) as of' :as_of
WITH s AS (
    SELECT s.*
    FROM profiles, clm.summary(profile, DATE :'as_of') AS s
), b AS (
    SELECT CASE WHEN orders = 0 OR frequency IS NULL THEN 'no purchase'
                WHEN frequency >= 10 THEN '10+'
                ELSE frequency::text END         AS frequency,
           CASE WHEN orders = 0 OR frequency IS NULL THEN -1
                ELSE least(frequency, 10) END    AS ord,
           count(*)                              AS customers
    FROM s
    GROUP BY 1, 2
)
SELECT frequency,
       customers,
       round(100.0 * customers / sum(customers) OVER (), 1) AS pct,
       repeat('#', ceil(50.0 * customers / max(customers) OVER ())::int) AS histogram
FROM b
ORDER BY ord;

\echo
\echo '== a tracked source: clm.track builds the schema demo_crm of views for BI tools'
DO $$ BEGIN PERFORM clm.untrack(name) FROM clm.tracked_sources WHERE name = 'demo_crm'; END $$;
DROP SCHEMA IF EXISTS demo_crm CASCADE;
SELECT action, events, customers, refit, views_refreshed
FROM clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel',
               target_schema => 'demo_crm',
               settings => jsonb_build_object('as_of', :'as_of', 'clv_horizon_weeks', 52, 'margin', 0.3));

\echo '== new events arrive (another 500 customers and some returning ones); clm.refresh merges only those'
INSERT INTO events
    SELECT * FROM clm.generate_events(500, seed => :seed + 1, first_customer => :customers - 250);
SELECT clm.pending_events('demo_crm') AS pending_events;
SELECT action, events, customers_changed, customers FROM clm.refresh('demo_crm', views => true);

\echo '== demo_crm.segment_summary: customers, revenue, CLV and churn risk per RFM segment'
SELECT segment, customers, round(revenue) AS revenue, round(mean_clv::numeric, 2) AS mean_clv,
       round(mean_churn_probability::numeric, 3) AS mean_churn_probability, at_risk_customers
FROM demo_crm.segment_summary
ORDER BY revenue DESC;

\echo '== demo_crm.customers: the five customers with the highest CLV'
SELECT customer_id, orders, total_spend, rfm_code, rfm_segment, stage,
       round(p_alive::numeric, 3) AS p_alive, round(expected_purchases_90d::numeric, 2) AS purchases_90d,
       round(clv::numeric, 2) AS clv, preferred_channel
FROM demo_crm.customers
ORDER BY clv DESC NULLS LAST, customer_id
LIMIT 5;

\echo '== demo_crm.stage_counts_daily: customers per stage on the last day'
SELECT stage, customers FROM demo_crm.stage_counts_daily
WHERE day = (SELECT max(day) FROM demo_crm.stage_counts_daily)
ORDER BY customers DESC;

\echo '== demo_crm.models: the fitted models'
SELECT role, kind, parameter_names, (SELECT array_agg(round(x::numeric, 3)) FROM unnest(parameters) x) AS parameters,
       round(log_likelihood::numeric, 1) AS log_likelihood, converged
FROM demo_crm.models ORDER BY role;
