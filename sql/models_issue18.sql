-- issue 18: regression tests of the model parts of items 5, 7 and 8
\set VERBOSITY sqlstate

-- item 8: at r = alpha = a = b = 0.001 half the Beta(a, b) mass of p lies
-- below 1e-300; 0.1 gave 0.000693 (its series stopped after a negative
-- first term) and 0.50036 (its quadrature missed that mass).  mpmath at 40
-- digits, the papers' closed form
-- with 2F1: 0.00084638037633985622 and 0.50000972097666580571
SELECT abs(clm.expected_purchases(m, 5000, 0, 0, 5000) / 0.00084638037633985622 - 1) < 1e-12 AS e5000_ok,
       abs(clm.expected_purchases(m, 1, 0, 0, 1e-6) / 0.50000972097666580571 - 1) < 1e-12 AS e1_ok
FROM (SELECT clm.make_model('bgnbd', '{0.001,0.001,0.001,0.001}') m) s;

-- item 5 (the mechanism): a fit whose optimum is at infinity stops in tens
-- of iterations with converged = false, not at the 1,000-iteration limit
SELECT (clm.model_info(f)).converged, (clm.model_info(f)).iterations < 100 AS bounded,
       (clm.model_info(f)).message
FROM (SELECT clm.bgnbd_fit(x, t_x, "T") f FROM (VALUES (0, 0, 30), (0, 0, 35), (1, 10, 30),
  (2, 20, 38), (3, 25, 36), (1, 5, 32), (4, 30, 31), (0, 0, 27), (5, 33, 39), (1, 28, 29),
  (2, 8, 35), (0, 0, 38)) v(x, t_x, "T")) s;

-- item 7: a fit's transition function checks the state it is given: a user's
-- aggregate whose initial condition is a histogram of another kind is 22023
CREATE AGGREGATE pg_temp.bad_fit(float8, float8, float8) (
  sfunc = clm.bgnbd_fit_trans, stype = clm.model_histogram, initcond = 'gg:2,10,0,1');
SELECT pg_temp.bad_fit(1, 2, 3);
CREATE AGGREGATE pg_temp.bad_fit2(float8, float8, float8) (
  sfunc = clm.bgnbd_fit_trans, stype = clm.model_histogram, finalfunc = clm.gg_fit_final,
  initcond = 'bgnbd:1,2,3,1');
SELECT pg_temp.bad_fit2(1, 2, 3);
-- the score metrics refuse a fit's histogram, the fits a score histogram
SELECT clm.roc_auc_final('bgnbd:1,2,3,1');
SELECT clm.bgnbd_fit_final('scores:0.5,1,0,1');
-- a valid initial condition of the right kind is just more data: the fit of
-- the initcond's tuples plus the rows equals the fit of all the rows
CREATE AGGREGATE pg_temp.seeded_fit(float8, float8, float8) (
  sfunc = clm.bgnbd_fit_trans, stype = clm.model_histogram, finalfunc = clm.bgnbd_fit_final,
  initcond = 'bgnbd:0,0,30,1;1,10,30,1;2,20,38,1');
CREATE TEMP TABLE v AS SELECT row_number() OVER () i, x::float8, t_x::float8, "T"::float8
  FROM (VALUES (0, 0, 30), (1, 10, 30), (2, 20, 38), (3, 25, 36), (1, 5, 32), (4, 30, 31),
  (0, 0, 27), (5, 33, 39), (1, 28, 29), (2, 8, 35), (0, 0, 38), (6, 37, 40), (3, 12, 33)) t(x, t_x, "T");
SELECT (SELECT pg_temp.seeded_fit(x, t_x, "T")::text FROM v WHERE i > 3)
     = (SELECT clm.bgnbd_fit(x, t_x, "T")::text FROM v) AS seeded_equals_full;
-- transition and combine functions outside an aggregate: 0A000
SELECT clm.bgnbd_fit_trans(NULL, 1, 2, 3);
SELECT clm.model_histogram_merge('bgnbd:1,2,3,1', 'bgnbd:1,2,3,1');
