-- Next purchase (clm.next_purchase, clm.next_purchase_date) and a new
-- customer's forecast (clm.new_customer_purchases): by hand, closed forms
-- and a simulation with known parameters (clm.generate_events).
\set VERBOSITY sqlstate
SET extra_float_digits = 0;

-- By hand, the BG/NBD CDNOW estimates (Fader, Hardie and Lee 2005) and their
-- customer (x, t_x, T) = (2, 30.43, 38.86): R = r + x = 2.243, A = alpha + T
-- = 43.274; P(alive) = 1 / (1 + a/(b+x-1) (A/(alpha+t_x))^R)
CREATE TEMP TABLE cdnow AS
SELECT clm.make_model('bgnbd', ARRAY[0.243, 4.414, 0.793, 2.426]) AS bg,
       clm.make_model('mbgnbd', ARRAY[0.243, 4.414, 0.793, 2.426]) AS mbg,
       clm.make_model('paretonbd', ARRAY[0.5534, 10.5802, 0.6061, 11.6562]) AS pn;
SELECT abs(n.p_alive - pa) < 1e-12 AS p_alive,
       abs(n.p_purchase_within - pa * (1 - (43.274 / 53.274) ^ 2.243)) < 1e-12 AS p_within,
       abs(n.median_wait - 43.274 * (2 ^ (1 / 2.243) - 1)) < 1e-12 AS median,
       abs(n.mean_wait - 43.274 / 1.243) < 1e-12 AS mean,
       abs(n.mean_interval - 43.274 / 2.243) < 1e-12 AS interval,
       abs(n.own_interval - 38.86 / 2) < 1e-12 AS own,
       abs(n.population_interval - 4.414 / 0.243) < 1e-12 AS population,
       abs(n.own_weight - 38.86 / 43.274) < 1e-12 AS weight,
       -- the shrinkage identity: the rate is the weighted mean of the rates
       abs(1 / n.mean_interval - (n.own_weight / n.own_interval
           + (1 - n.own_weight) / n.population_interval)) < 1e-12 AS shrinkage,
       round(n.median_wait::numeric, 4) AS median_weeks,
       round(n.p_purchase_within::numeric, 4) AS p_10_weeks
FROM cdnow, clm.next_purchase(bg, 10, 2, 30.43, 38.86) AS n,
     LATERAL (SELECT 1 / (1 + 0.793 / (2.426 + 2 - 1) * (43.274 / (4.414 + 30.43)) ^ 2.243)) AS h(pa);

-- the probability of a purchase is 1 - P(no purchase) of every kind; the
-- median wait has P(W > median | alive) = (A / (A + median))^R = 1/2
SELECT k, abs(n.p_purchase_within - (1 - clm.p_no_purchase(m, 10, 2, 30.43, 38.86))) < 1e-15 AS one_minus_none,
       abs((A / (A + n.median_wait)) ^ R - 0.5) < 1e-12 AS half
FROM cdnow, LATERAL (VALUES ('bgnbd', bg), ('mbgnbd', mbg), ('paretonbd', pn)) AS v(k, m),
     LATERAL (SELECT clm.model_parameter(m, 'r') + 2, clm.model_parameter(m, 'alpha') + 38.86) AS p(R, A),
     clm.next_purchase(m, 10, 2, 30.43, 38.86) AS n ORDER BY k;

-- no repeat purchase: the own interval is infinite; R <= 1: the mean wait too
SELECT n.own_interval, n.mean_wait, n.own_weight = 38.86 / 43.274 AS weight
FROM cdnow, clm.next_purchase(bg, 10, 0, 0, 38.86) AS n;
-- a customer whose first purchase is on the calibration end; within = 0
SELECT n.p_alive, n.p_purchase_within, n.own_weight
FROM cdnow, clm.next_purchase(bg, 0, 0, 0, 0) AS n;

-- bad inputs
SELECT clm.next_purchase(clm.make_model('gg', ARRAY[6.25, 3.74, 15.44]), 10, 2, 30, 38);
SELECT clm.next_purchase(bg, -1, 2, 30, 38) FROM cdnow;
SELECT clm.next_purchase(bg, 'NaN', 2, 30, 38) FROM cdnow;
SELECT clm.next_purchase(bg, 10, 2, 40, 38) FROM cdnow;
SELECT clm.next_purchase(bg, 10, -1, 0, 38) FROM cdnow;
SELECT clm.next_purchase(bg, 10, 2, 30, 'Infinity') FROM cdnow;
SELECT clm.next_purchase(NULL, 10, 2, 30, 38) IS NULL AS strict;
SELECT clm.new_customer_purchases(clm.make_model('sbg', ARRAY[1, 2]), 10);
SELECT clm.new_customer_purchases(bg, -1) FROM cdnow;
SELECT clm.new_customer_purchases(bg, 1e10) FROM cdnow;
SELECT clm.new_customer_purchases(bg, 0) FROM cdnow;

-- New customers, BG/NBD: (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b;
-- a+b-1; z)], z = t/(alpha+t), the 2F1 by its series here (300 terms:
-- z = 10/14.414, the terms fall as z^n)
WITH p(r, al, a, b, t) AS (VALUES (0.243::float8, 4.414::float8, 0.793::float8, 2.426::float8, 10::float8)),
terms AS (
	SELECT n, sum(ln(r + j) + ln(b + j) - ln(a + b - 1 + j) - ln(j + 1.0) + ln(t / (al + t))) AS lt
	FROM p, generate_series(1, 300) AS n, generate_series(0, n - 1) AS j
	GROUP BY n
)
SELECT abs(clm.new_customer_purchases(clm.make_model('bgnbd', ARRAY[r, al, a, b]), t)
		   - (a + b - 1) / (a - 1) * (1 - (al / (al + t)) ^ r * (1 + (SELECT sum(exp(lt)) FROM terms))))
	   < 1e-9 AS bgnbd_closed_form
FROM p;
-- Pareto/NBD: r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)], against
-- the conditional expectation at x = t_x = T = 0 (its own code path), and
-- at s = 1 the limit r beta / alpha log(1 + t / beta)
SELECT t, abs(clm.new_customer_purchases(pn, t) - 0.5534 * 11.6562 / (10.5802 * (0.6061 - 1))
			 * (1 - (11.6562 / (11.6562 + t)) ^ (0.6061 - 1))) < 1e-12 AS closed_form,
	   abs(clm.new_customer_purchases(pn, t) - clm.expected_purchases(pn, t, 0, 0, 0)) < 1e-8 AS conditional
FROM cdnow, (VALUES (1.0), (39.0), (1000.0)) AS v(t) ORDER BY t;
SELECT abs(clm.new_customer_purchases(clm.make_model('paretonbd', ARRAY[0.5, 10, 1, 12]), 39)
		   - 0.5 * 12 / 10 * ln(1 + 39 / 12.0)) < 1e-12 AS s_one,
	   abs(clm.new_customer_purchases(clm.make_model('paretonbd', ARRAY[0.5, 10, 1 + 1e-12, 12]), 39)
		   - 0.5 * 12 / 10 * ln(1 + 39 / 12.0)) < 1e-11 AS s_near_one;
-- MBG/NBD: b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; z)]
WITH p(r, al, a, b, t) AS (VALUES (0.243::float8, 4.414::float8, 0.793::float8, 2.426::float8, 10::float8)),
terms AS (
	SELECT n, sum(ln(r + j) + ln(b + 1 + j) - ln(a + b + j) - ln(j + 1.0) + ln(t / (al + t))) AS lt
	FROM p, generate_series(1, 300) AS n, generate_series(0, n - 1) AS j
	GROUP BY n
)
SELECT abs(clm.new_customer_purchases(clm.make_model('mbgnbd', ARRAY[r, al, a, b]), t)
		   - b / (a - 1) * (1 - (al / (al + t)) ^ r * (1 + (SELECT sum(exp(lt)) FROM terms))))
	   < 1e-9 AS mbgnbd_closed_form
FROM p;

-- Simulation with known parameters: 20,000 customers of clm.generate_events
-- (BG/NBD dropout, r = 0.75, alpha = 10 per week, a = 0.8, b = 2.5), scored
-- with the true parameters at 2024-07-01.  Each check compares a count with
-- its expectation, within 3 standard deviations of the sampling error.
CREATE TEMP TABLE sim AS
SELECT customer_id, clm.profile(occurred_at, amount, channel) AS profile
FROM clm.generate_events(20000, seed => 15, alpha => 10, visit_ratio => 0)
GROUP BY customer_id;
CREATE TEMP TABLE simc AS
SELECT b.x, b.t_x, b.t, n.*,
       (clm.btyd_inputs(profile, DATE '2024-07-29', 'week')).x > b.x AS bought_4w,
       (clm.btyd_inputs(profile, DATE '2024-07-01' + floor(n.median_wait * 7)::int, 'week')).x > b.x AS bought_median
FROM sim, clm.btyd_inputs(profile, DATE '2024-07-01', 'week') AS b,
     clm.next_purchase(clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5]), 4, b.x, b.t_x, b.t) AS n
WHERE b.x IS NOT NULL;
-- customers with a purchase in the next 4 weeks: the sum of p_purchase_within
SELECT count(*) AS customers,
       abs(count(*) FILTER (WHERE bought_4w) - sum(p_purchase_within))
       < 3 * sqrt(sum(p_purchase_within * (1 - p_purchase_within))) AS within_4_weeks
FROM simc;
-- customers who bought within their median wait: half of those alive, i.e.
-- the sum of P(alive) / 2 (customers whose median wait fits in the 26 weeks
-- of data after the calibration end)
SELECT count(*) AS customers,
       abs(count(*) FILTER (WHERE bought_median) - sum(0.5 * p_alive))
       < 3 * sqrt(sum(0.5 * p_alive * (1 - 0.5 * p_alive))) AS within_median
FROM simc WHERE median_wait * 7 <= 180;
-- new customers: repeat purchase days in each customer's first 52 weeks
-- (everyone joined in 2023) against new_customer_purchases(52) = 2.2423;
-- same-day purchases merge into one purchase day, about 1% fewer here
SELECT count(*) AS customers,
       abs(avg(y) - clm.new_customer_purchases(clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5]), 52))
       < 3 * stddev(y) / sqrt(count(*)) AS first_year,
       round(clm.new_customer_purchases(clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5]), 52)::numeric, 4) AS expected
FROM sim,
     LATERAL (SELECT DATE '2024-12-31' - round((clm.btyd_inputs(profile, DATE '2024-12-31', 'day')).t)::int) AS d(first_day),
     LATERAL (SELECT (clm.btyd_inputs(profile, first_day + 364, 'week')).x) AS c(y)
WHERE first_day IS NOT NULL;

-- clm.next_purchase_date: the calibration end plus the median wait in days
SELECT count(*) AS customers,
       count(*) FILTER (WHERE clm.next_purchase_date(m, profile, DATE '2024-07-01')
           = DATE '2024-07-01' + round(n.median_wait * 7)::int) AS same_date,
       count(*) FILTER (WHERE clm.next_purchase_date(m, profile, DATE '2024-07-01', 'day')
           = DATE '2024-07-01' + round(nd.median_wait)::int) AS same_date_days
FROM sim, clm.btyd_inputs(profile, DATE '2024-07-01', 'week') AS b,
     clm.btyd_inputs(profile, DATE '2024-07-01', 'day') AS bd,
     LATERAL (SELECT clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5])) AS k(m),
     clm.next_purchase(m, 4, b.x, b.t_x, b.t) AS n,
     clm.next_purchase(m, 4, bd.x, bd.t_x, bd.t) AS nd
WHERE b.x IS NOT NULL;
-- no purchase by the calibration end: NULL; a huge wait: infinity; bad unit
SELECT clm.next_purchase_date(clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5]), profile, DATE '2022-01-01') IS NULL AS before_first
FROM sim WHERE customer_id = 1;
SELECT clm.next_purchase_date(clm.make_model('bgnbd', ARRAY[0.01, 1e8, 0.8, 2.5]), profile, DATE '2024-07-01') AS far
FROM sim, clm.btyd_inputs(profile, DATE '2024-07-01') AS b WHERE b.x IS NOT NULL AND customer_id < 100 LIMIT 1;
SELECT clm.next_purchase_date(clm.make_model('bgnbd', ARRAY[0.75, 10, 0.8, 2.5]), profile, DATE '2024-07-01', 'year')
FROM sim WHERE customer_id = 1;
