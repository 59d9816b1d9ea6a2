-- clm.next_purchase against simulation (issue 15, part 4), for each
-- purchase story: customers simulated by clm.generate_events with known
-- parameters (20,000 each, seeded), scored with the true parameters at the
-- calibration end 2024-07-01, compared with what they did in the 26 weeks
-- after it.  Each check is a count or a mean against its expectation within
-- 3 standard deviations of the sampling error.  sql/forecast.sql has the
-- BG/NBD checks of the median wait.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET extra_float_digits = 0;

-- The event days are UTC days; a purchase on 2024-07-01 is in the
-- calibration period, so the holdout starts at the end of that day: the wait
-- of a customer whose next purchase is on day d is taken as
-- d - 2024-07-01 - 0.5 days (mid-day), and the holdout is H = 183 days.
CREATE TEMP TABLE np_sim AS
SELECT d.dropout, e.customer_id,
       clm.profile(e.occurred_at, e.amount) AS profile,
       min(e.occurred_at::date) FILTER (WHERE e.occurred_at::date > DATE '2024-07-01') AS next_day
  FROM (VALUES ('bgnbd', 15), ('mbgnbd', 16), ('paretonbd', 17)) AS d(dropout, seed),
       clm.generate_events(20000, seed => d.seed, alpha => 10, dropout => d.dropout, visit_ratio => 0) AS e
 WHERE e.event_type = 'purchase'
 GROUP BY d.dropout, e.customer_id;
CREATE TEMP TABLE np AS
SELECT s.dropout, b.x, b.t_x, b.t, n.*,
       CASE WHEN s.next_day IS NOT NULL THEN (s.next_day - DATE '2024-07-01' - 0.5) / 7 END AS wait,
       clm.model_parameter(m, 'r') + b.x AS big_r, clm.model_parameter(m, 'alpha') + b.t AS big_a
  FROM np_sim s,
       LATERAL (SELECT clm.make_model(s.dropout, CASE s.dropout WHEN 'paretonbd' THEN ARRAY[0.75, 10, 0.6, 10]
                                                 ELSE ARRAY[0.75, 10, 0.8, 2.5] END)) AS k(m),
       clm.btyd_inputs(s.profile, DATE '2024-07-01', 'week') AS b,
       clm.next_purchase(m, 4, b.x, b.t_x, b.t) AS n
 WHERE b.x IS NOT NULL;

-- P(a purchase within 4 weeks): the customers who bought are as many as the
-- summed probabilities, for each story (Pareto/NBD's with its deaths between
-- purchases)
SELECT dropout, count(*) AS customers, count(*) FILTER (WHERE wait <= 4) AS bought,
       round(sum(p_purchase_within)::numeric, 1) AS expected,
       round(sqrt(sum(p_purchase_within * (1 - p_purchase_within)))::numeric, 1) AS sd,
       abs(count(*) FILTER (WHERE wait <= 4) - sum(p_purchase_within))
       < 3 * sqrt(sum(p_purchase_within * (1 - p_purchase_within))) AS within_3_sd
  FROM np GROUP BY dropout ORDER BY dropout;

-- The mean wait (BG/NBD and MBG/NBD: a customer alive at T lives to the next
-- purchase, so the wait W is 'never' with probability 1 - P(alive) and Lomax
-- otherwise).  Censored at H = 183 days, its mean is
--   E[min(W, H)] = (1 - p) H + p mean_wait (1 - (A / (A + H))^(R - 1))
-- with clm's p_alive and mean_wait = A / (R - 1) (customers with R > 1, i.e.
-- a repeat purchase).  The observed mean of min(wait, H) against it; the sd
-- is the sample's (an upper bound: it includes the spread of the expectations).
SELECT dropout, count(*) AS customers,
       round(avg(least(coalesce(wait, 183 / 7.0), 183 / 7.0))::numeric, 3) AS observed_weeks,
       round(avg((1 - p_alive) * 183 / 7.0
                 + p_alive * mean_wait * (1 - (big_a / (big_a + 183 / 7.0)) ^ (big_r - 1)))::numeric, 3) AS expected_weeks,
       round((stddev(least(coalesce(wait, 183 / 7.0), 183 / 7.0)) / sqrt(count(*)))::numeric, 3) AS se,
       abs(avg(least(coalesce(wait, 183 / 7.0), 183 / 7.0))
           - avg((1 - p_alive) * 183 / 7.0 + p_alive * mean_wait * (1 - (big_a / (big_a + 183 / 7.0)) ^ (big_r - 1))))
       < 3 * stddev(least(coalesce(wait, 183 / 7.0), 183 / 7.0)) / sqrt(count(*)) AS within_3_se,
       -- mean_wait is A / (R - 1) and the shrunk interval A / R
       max(abs(mean_wait - big_a / (big_r - 1)) / mean_wait) < 1e-12 AS mean_wait_formula,
       max(abs(mean_interval - big_a / big_r) / mean_interval) < 1e-12 AS interval_formula
  FROM np WHERE dropout <> 'paretonbd' AND big_r > 1
 GROUP BY dropout ORDER BY dropout;

-- The wait's law, P(W <= w | data) = p (1 - (A / (A + w))^R), at the median
-- and at 1 and 13 weeks, over all customers of the BG stories
SELECT dropout, w.label, count(*) FILTER (WHERE wait <= w.weeks) AS bought,
       round(sum(p_alive * (1 - (big_a / (big_a + w.weeks)) ^ big_r))::numeric, 1) AS expected,
       abs(count(*) FILTER (WHERE wait <= w.weeks) - sum(p_alive * (1 - (big_a / (big_a + w.weeks)) ^ big_r)))
       < 3 * sqrt(sum(p_alive * (1 - (big_a / (big_a + w.weeks)) ^ big_r)
                      * (1 - p_alive * (1 - (big_a / (big_a + w.weeks)) ^ big_r)))) AS within_3_sd
  FROM np, LATERAL (VALUES ('1 week', 1.0), ('13 weeks', 13.0), ('median', np.median_wait)) AS w(label, weeks)
 WHERE dropout <> 'paretonbd' AND w.weeks <= 26
 GROUP BY dropout, w.label ORDER BY dropout, w.label;

-- The shrinkage: 1 / mean_interval, the posterior mean rate (r + x) / (alpha + T)
-- behind the law checked above, is the weighted mean of the customer's own
-- rate x / T and the population's r / alpha with weight T / (alpha + T)
SELECT round(avg(own_weight)::numeric, 3) AS mean_own_weight,
       bool_and(abs(1 / mean_interval - (own_weight * x / t + (1 - own_weight) * 0.75 / 10)) < 1e-12) AS weighted_mean
  FROM np WHERE dropout = 'bgnbd' AND x > 0;
