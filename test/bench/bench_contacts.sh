#!/bin/bash
# bench_contacts.sh -- the performance targets of contacts (issue 16):
#   a refresh after SHARE % new contacts against a rebuild, and
#   clm.contactable for every customer against the stage query (the stage of
#   every profile computed: clm.stage over b_crm.profiles).
# The comparison is made with the same rows out, both written: clm.contactable
# returns a row per customer (its id as text and the answer), which a
# set-returning function writes into a tuplestore before the query counts
# them; the stage query returns the same rows (id as text, stage), written
# into a tuplestore by a MATERIALIZED CTE, then counted.  The stage query
# counted without writing its rows is printed too (the cost of the writing).
# Against the server of PGHOST/PGPORT with clm installed, in a database of its
# own (dropped at the end).  N customers (default 20000), PER contacts per
# customer (default 10), SHARE percent new contacts (default 1), REPS runs of
# each timed step (default 3; the median is printed).
#   N=1000000 PER=10 bash test/bench/bench_contacts.sh    # the issue's scale
set -euo pipefail
N=${N:-20000} PER=${PER:-10} SHARE=${SHARE:-1} REPS=${REPS:-3}
DB=clm_bench_contacts_$$
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
createdb "$DB"
trap 'dropdb --if-exists "$DB"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION clm;
CREATE TABLE events AS SELECT customer_id, occurred_at, amount, channel FROM clm.generate_events($N, seed => 1);
SELECT setseed(0.16);
CREATE TABLE contacts AS
    SELECT (1 + floor(random() * $N))::bigint AS customer_id,
           timestamptz '2024-01-01' + random() * interval '366 days' AS sent_at,
           (ARRAY['email', 'sms', 'push'])[1 + floor(random() * 3)::int] AS channel,
           'c' || floor(random() * 20)::int AS campaign, random() < 0.2 AS opened
      FROM generate_series(1, $N * $PER);
\\timing on
\\echo clm.track (the first build of the profiles and customers):
SELECT name FROM clm.track('events', 'customer_id', 'occurred_at', 'amount', 'channel',
                           name => 'b', target_schema => 'b_crm', settings => '{"as_of": "2025-01-01"}') \g /dev/null
\\echo clm.track_contacts (the first capture of the messages, their state and columns):
SELECT clm.track_contacts('b', 'contacts', 'customer_id', 'sent_at', channel_column => 'channel',
                          campaign_column => 'campaign', opened_column => 'opened') \g /dev/null
\\timing off
CREATE TABLE timings (step text, seconds float8);
CREATE PROCEDURE timed(step text, q text) LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE q;
    INSERT INTO timings VALUES (step, extract(epoch FROM clock_timestamp() - t0));
END \$\$;
DO \$\$
DECLARE i int;
BEGIN
    FOR i IN 1..$REPS LOOP
        CALL timed('rebuild', \$q\$SELECT clm.rebuild('b')\$q\$);
        -- untimed, once each: the first read of a table the rebuild rewrote
        -- sets the hint bits of its rows (writes): paid by whichever timed
        -- query read it first, it made the order of the steps decide
        PERFORM count(*) FROM clm.contactable('b', 'email', 'promotion');
        PERFORM count(st) FROM (SELECT (clm.stage(p.profile, '2025-01-01', clm.stage_rules())).stage AS st FROM b_crm.profiles p) s;
        PERFORM count(stage) FROM b_crm.customers;
        CALL timed('contactable, every customer', \$q\$SELECT count(*) FROM clm.contactable('b', 'email', 'promotion')\$q\$);
        -- count(st), not count(*): the planner drops a subquery column that
        -- nothing reads, and the stage would not be computed at all
        CALL timed('stage query, counted only',
                   \$q\$SELECT count(st) FROM (SELECT (clm.stage(p.profile, '2025-01-01', clm.stage_rules())).stage AS st FROM b_crm.profiles p) s\$q\$);
        -- the same rows as clm.contactable's (customer id as text, answer), written as its are
        CALL timed('stage query, every customer',
                   \$q\$WITH s AS MATERIALIZED (SELECT p.customer_id::text AS customer_id, (clm.stage(p.profile, '2025-01-01', clm.stage_rules())).stage AS st FROM b_crm.profiles p) SELECT count(st) FROM s\$q\$);
        CALL timed('contact_now, every customer and channel', \$q\$SELECT count(reason) FROM b_crm.contact_now\$q\$);
        CALL timed('stage from customers, every customer', \$q\$SELECT count(stage) FROM b_crm.customers\$q\$);
    END LOOP;
END \$\$;
-- a refresh after SHARE % new contacts, each run rolled back
SQL
for i in $(seq "$REPS"); do
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
BEGIN;
INSERT INTO contacts
    SELECT (1 + floor(random() * $N))::bigint, timestamptz '2024-12-20' + random() * interval '12 days',
           'email', 'new', false
      FROM generate_series(1, $N * $PER * $SHARE / 100);
CREATE TEMP TABLE t AS SELECT clock_timestamp() AS t0;
SELECT clm.refresh('b') \g /dev/null
CREATE TEMP TABLE x AS SELECT extract(epoch FROM clock_timestamp() - t0) AS s FROM t;
SELECT s FROM x \gset
ROLLBACK;
INSERT INTO timings VALUES ('refresh after $SHARE% new contacts', :s);
SQL
done
psql -X -d "$DB" <<SQL
SELECT $N AS customers, $N * $PER AS contacts, $N * $PER * $SHARE / 100 AS new_contacts;
WITH m AS (SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median FROM timings GROUP BY step)
SELECT step, round(median::numeric, 3) AS median_seconds,
       round((median / (SELECT median FROM m WHERE step = 'rebuild'))::numeric, 3) AS of_rebuild,
       round((median / (SELECT median FROM m WHERE step = 'stage query, every customer'))::numeric, 3) AS of_stage_query
  FROM m ORDER BY 2 DESC;
SQL
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
