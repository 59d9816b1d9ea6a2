#!/bin/bash
# bench_model_choice.sh -- the cost of clm.choose_model (issue 15, part 5)
# against one fit: N customers (default 100000; N=1000000 for the issue's
# scale) of clm.generate_events, profiles built once; then, REPS times each
# (default 3, the median printed), in one run:
#   fit     clm.bgnbd_fit(profile, calibration_end, 'week') over the profiles
#           (what a tracked source's refit does for its model), and the same
#           with clm.paretonbd_fit
#   choice  clm.choose_model(profiles, calibration_end, holdout_end): the
#           profiles read once, BG/NBD, MBG/NBD and Pareto/NBD fitted, every
#           distinct input scored
# and their ratio.  Against the server of PGHOST/PGPORT with clm installed,
# in a database of its own (dropped at the end).
set -euo pipefail
N=${N:-100000} REPS=${REPS:-3}
DB=clm_bench_choice_$$
createdb "$DB"
trap 'dropdb --if-exists "$DB"' EXIT
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION clm;
CREATE TABLE profiles AS
SELECT customer_id, clm.profile(occurred_at, amount) AS profile
  FROM clm.generate_events($N, seed => 1, visit_ratio => 0, prospect_share => 0)
 GROUP BY customer_id;
VACUUM ANALYZE profiles;
CREATE TABLE timings (step text, seconds float8);
DO \$\$
DECLARE
    t0 timestamptz;
    m clm.model;
    n bigint;
BEGIN
    FOR i IN 1 .. $REPS LOOP
        t0 := clock_timestamp();
        SELECT clm.bgnbd_fit(profile, '2024-07-01', 'week') INTO m FROM profiles;
        INSERT INTO timings VALUES ('fit', extract(epoch FROM clock_timestamp() - t0));
        t0 := clock_timestamp();
        SELECT clm.paretonbd_fit(profile, '2024-07-01', 'week') INTO m FROM profiles;
        INSERT INTO timings VALUES ('paretonbd fit', extract(epoch FROM clock_timestamp() - t0));
        t0 := clock_timestamp();
        SELECT count(*) INTO n FROM clm.choose_model('profiles', '2024-07-01', '2024-12-31');
        INSERT INTO timings VALUES ('choice', extract(epoch FROM clock_timestamp() - t0));
    END LOOP;
END
\$\$;
SELECT count(*) AS customers FROM profiles;
SELECT step, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 3) AS median_seconds
  FROM timings GROUP BY step ORDER BY step DESC;
SELECT round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timings WHERE step = 'choice')::numeric
             / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM timings WHERE step = 'fit')::numeric, 2)
       AS choice_over_fit;
SELECT model, chosen, round(holdout_log_likelihood::numeric, 1) AS holdout_ll, round(holdout_mae::numeric, 4) AS mae
  FROM clm.choose_model('profiles', '2024-07-01', '2024-12-31');
SQL
