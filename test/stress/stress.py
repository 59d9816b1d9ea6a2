#!/usr/bin/python3
"""test/stress/stress.py: the stress set of clm's fits and predictions.

Run by test/stress/run against a server (PGHOST/PGPORT/PGUSER, clm
installed; it creates the extension in a scratch database).  Three parts:

1. Fits.  Every fit (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma, BG/BB, sBG)
   over data sets at the edges: x up to 500, t_x = T for everyone, T in the
   thousands of days, only x = 0, one customer, data simulated from
   near-bound parameters.  Each fit either converges, or returns
   converged = false with a warning and a message, or raises an error with a
   precise SQLSTATE (not XX000); never a NaN or infinite parameter or
   log-likelihood; the iterations are reported and bounded.
2. Predictions.  Over a grid of parameters (typical, all 0.001, large,
   mixed) and customers (x up to 500, t_x = T, T from 1e-6 to 5000),
   every prediction (P(alive), expected purchases, CLV, expected spend,
   survival, retention, the next purchase) agrees with an independent computation in mpmath
   at 30 digits (closed forms with hypergeometric functions, or direct
   integration, none of clm's series or quadratures) to 1e-8 relative
   (plus 1e-290 absolute, for values that underflow), or raises an error
   with a precise SQLSTATE.
3. Issue 18 item 5: the refit that took 1,015 iterations converges in as
   many as its neighbour (one customer more), within 3.

Prints one line per failure, a summary per part and "N passed, M failed".
"""
import os
import subprocess
import sys
import time

from mpmath import mp, mpf, hyp2f1, hyperu, betainc, beta, quad, log, exp, gamma, loggamma, inf

mp.dps = 30
REL = mpf("1e-8")
ABS = mpf("1e-290")
DB = os.environ.get("STRESS_DB", "clm_stress")

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAILED: stress: " + what)


def psql(sql, db=DB, timeout=600):
    r = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", db],
                       input=sql, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("psql failed: " + r.stderr[-2000:])
    return r.stdout, r.stderr


# -- set up -----------------------------------------------------------------
subprocess.run(["dropdb", "--if-exists", DB], check=True, capture_output=True)
subprocess.run(["createdb", DB], check=True, capture_output=True)
psql("""
CREATE EXTENSION clm;
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
  EXECUTE q INTO v;
  RETURN coalesce(v, 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN 'ERR ' || SQLSTATE || ' ' || SQLERRM;
END $$;
""")


def run_queries(qs):
    """[(key, sql returning one value)] -> {key: text}"""
    vals = ",\n".join("(%d, $q$%s$q$)" % (i, q) for i, (_, q) in enumerate(qs))
    out, _ = psql("SET extra_float_digits = 3;\nSELECT i, try(q) FROM (VALUES %s) v(i, q) ORDER BY i;" % vals)
    res = {}
    for line in out.splitlines():
        i, v = line.split("\t", 1)
        res[qs[int(i)][0]] = v
    return res


# -- part 1: fits -----------------------------------------------------------
SKIP_FITS = os.environ.get("STRESS_SKIP_FITS") == "1"
CONT = ["bgnbd", "mbgnbd", "paretonbd"]
FIT_SETS = []
for k in CONT:
    FIT_SETS += [
        (k, "x up to 500", "SELECT clm.%s_fit(x, tx, tt) FROM (SELECT (i %% 501)::float8 x, "
         "CASE WHEN i %% 501 = 0 THEN 0 ELSE 4000 - (i %% 7) * 500 END::float8 tx, 5000::float8 tt "
         "FROM generate_series(1, 3000) i) s" % k),
        (k, "t_x = T", "SELECT clm.%s_fit(x, CASE WHEN x = 0 THEN 0 ELSE tt END, tt) FROM (SELECT (i %% 10)::float8 x, "
         "(1000 + i %% 500)::float8 tt FROM generate_series(1, 2000) i) s" % k),
        (k, "T in the thousands of days", "SELECT clm.%s_fit(x, CASE WHEN x = 0 THEN 0 ELSE tt * ((i %% 97) + 1) / 98 END, tt) "
         "FROM (SELECT i, (i %% 31)::float8 x, (3000 + (i * 37) %% 6000)::float8 tt FROM generate_series(1, 3000) i) s" % k),
        (k, "only x = 0", "SELECT clm.%s_fit(0, 0, 100 + i) FROM generate_series(1, 100) i" % k),
        (k, "one customer", "SELECT clm.%s_fit(3, 20, 40)" % k),
        (k, "item 4 (50 customers, T = 4000)", "SELECT clm.%s_fit(x, CASE WHEN x = 0 THEN 0 ELSE 1 + (i * 7) %% 90 END, 4000) "
         "FROM (SELECT i, (i %% 10)::float8 x FROM generate_series(1, 50) i) s" % k),
        (k, "near-bound (simulated r = alpha = a = b = 0.05)", "SELECT clm.%s_fit(p, '2025-01-01', 'day') FROM "
         "(SELECT customer_id, clm.profile(occurred_at::date, amount) p FROM clm.generate_events(3000, seed => 3, r => 0.05, "
         "alpha => 0.05, a => 0.05, b => 0.05, s => 0.05, beta => 0.05, dropout => '%s') WHERE event_type = 'purchase' "
         "GROUP BY customer_id) s" % (k, "paretonbd" if k == "paretonbd" else "bgnbd")),
        (k, "heavy buyers (simulated r = 50, alpha = 1)", "SELECT clm.%s_fit(p, '2025-01-01', 'week') FROM "
         "(SELECT customer_id, clm.profile(occurred_at::date, amount) p FROM clm.generate_events(300, seed => 5, r => 50, "
         "alpha => 1, a => 5, b => 200) WHERE event_type = 'purchase' GROUP BY customer_id) s" % k),
    ]
FIT_SETS += [
    ("gg", "x up to 500", "SELECT clm.gg_fit(1 + i %% 500, 5 + (i * 13) %% 97) FROM generate_series(1, 3000) i" % ()),
    ("gg", "spend from 1e-6 to 1e6", "SELECT clm.gg_fit(1 + i % 5, 10 ^ ((i % 13) - 6)) FROM generate_series(1, 1000) i"),
    ("gg", "every customer the same spend", "SELECT clm.gg_fit(1 + i % 5, 25) FROM generate_series(1, 100) i"),
    ("gg", "one customer", "SELECT clm.gg_fit(3, 20)"),
    ("gg", "simulated near-bound (q = 1.5)", "SELECT clm.gg_fit(p, '2025-01-01', 'week') FROM "
     "(SELECT customer_id, clm.profile(occurred_at::date, amount) p FROM clm.generate_events(2000, seed => 9, "
     "spend_p => 0.5, spend_q => 1.5, spend_gamma => 3) WHERE event_type = 'purchase' GROUP BY customer_id) s"),
    ("bgbb", "x up to 500 (n = 1000)", "SELECT clm.bgbb_fit(x, CASE WHEN x = 0 THEN 0 ELSE greatest(x, 1000 - i % 300) END, 1000) "
     "FROM (SELECT i, (i % 501)::float8 x FROM generate_series(1, 600) i) s"),
    ("bgbb", "t_x = n", "SELECT clm.bgbb_fit(x, CASE WHEN x = 0 THEN 0 ELSE 20 END, 20) FROM (SELECT (i % 21)::float8 x FROM generate_series(1, 2000) i) s"),
    ("bgbb", "only x = 0", "SELECT clm.bgbb_fit(0, 0, 6) FROM generate_series(1, 100) i"),
    ("bgbb", "one customer", "SELECT clm.bgbb_fit(3, 5, 6)"),
    ("bgbb", "n in the thousands", "SELECT clm.bgbb_fit(x, CASE WHEN x = 0 THEN 0 ELSE greatest(x, 5000 - (i * 7) % 4000) END, 5000) "
     "FROM (SELECT i, (i % 40)::float8 x FROM generate_series(1, 60) i) s"),
    ("sbg", "t up to 100000", "SELECT clm.sbg_fit(1 + (i * 7919) % 100000, i % 3 = 0) FROM generate_series(1, 3000) i"),
    ("sbg", "everyone churned in period 1", "SELECT clm.sbg_fit(1, true) FROM generate_series(1, 100) i"),
    ("sbg", "no churn", "SELECT clm.sbg_fit(i, false) FROM generate_series(1, 100) i"),
    ("sbg", "one customer", "SELECT clm.sbg_fit(3, true)"),
]

fit_summary = {"converged": 0, "not converged (warned)": 0, "refused (error)": 0}
worst_it = 0
t0 = time.time()
for kind, name, q in ([] if SKIP_FITS else FIT_SETS):
    t1 = time.time()
    sql = ("SET extra_float_digits = 3;\nSELECT try($q$SELECT (SELECT row(i.converged, i.iterations, i.parameters, "
           "i.log_likelihood, i.message)::text FROM clm.model_info(m) i) FROM (%s) f(m)$q$);" % q)
    out, err = psql(sql)
    v = out.strip()
    label = "fit %s, %s" % (kind, name)
    if v.startswith("ERR "):
        code = v.split()[1]
        check(code not in ("XX000", "XX001") and code[:2] in ("22", "54", "0A", "42"), "%s: error %s" % (label, v))
        fit_summary["refused (error)"] += 1
        print("  %-10s %-48s error %s, %.2f s" % (kind, name, v[4:90], time.time() - t1))
        continue
    # (t,17,"{...}",-123.4,"message")
    body = v.strip("()")
    conv = body.startswith("t,")
    parts = body.split(",")
    it = int(parts[1])
    worst_it = max(worst_it, it)
    pars = v[v.index("{") + 1:v.index("}")].split(",")
    ll = v[v.index("}") + 2:].split(",")[0].strip('"')
    finite = all(p not in ("NaN", "Infinity", "-Infinity") for p in pars) and ll not in ("NaN", "Infinity", "-Infinity")
    check(finite, "%s: non-finite parameters or log-likelihood: %s" % (label, v))
    check(it <= 2000, "%s: %d iterations" % (label, it))
    if conv:
        fit_summary["converged"] += 1
    else:
        fit_summary["not converged (warned)"] += 1
        check("did not converge" in err, "%s: converged = false without a warning" % label)
    print("  %-10s %-48s %s, %d iterations, %.2f s" % (kind, name, "converged" if conv else "not converged: " + v.split(",")[-1].strip(')"'), it, time.time() - t1))
print("fits: %d sets in %.1f s: %s; most iterations %d" % (len(FIT_SETS), time.time() - t0,
      ", ".join("%d %s" % (n, k) for k, n in fit_summary.items()), worst_it))


# -- part 2: predictions ----------------------------------------------------
def bg_palive(m, r, al, a, b, x, tx, T):
    if m == 0 and x == 0:
        return mpf(1)
    d = a / (b + x + m - 1) * ((al + T) / (al + tx)) ** (r + x)
    return 1 / (1 + d)


def bg_ega(m, r, al, a, b, t, x, T):
    """E[Y(t)] given alive: the papers' closed form with 2F1 (mpmath)"""
    if t == 0:
        return mpf(0)
    R, bb = r + x, b + x + m
    C = a + bb - 1
    z = t / (al + T + t)
    A = ((al + T) / (al + T + t)) ** R
    return C / (a - 1) * (1 - A * hyp2f1(R, bb, C, z))


def pnbd_palive_churn(r, al, s, be, x, tx, T):
    """P(alive) and 1 - P(alive) of Pareto/NBD by direct integration"""
    R = r + x
    if tx == T:
        return mpf(1), mpf(0)
    L0 = (al + T) ** (-R) * (be + T) ** (-s)
    # the integrand falls from u = t_x, steeply for large r + x: panels
    # refined geometrically towards t_x
    pts = [tx] + [tx + (T - tx) * mpf(2) ** -j for j in range(70, -1, -1)]
    sI = s * quad(lambda u: (al + u) ** (-R) * (be + u) ** (-(s + 1)), pts)
    return L0 / (L0 + sI), sI / (L0 + sI)


def pnbd_palive(r, al, s, be, x, tx, T):
    return pnbd_palive_churn(r, al, s, be, x, tx, T)[0]


def pnbd_ega(r, al, s, be, t, x, T):
    R = r + x
    if s == 1:
        return R * (be + T) / (al + T) * log(1 + t / (be + T))
    return R * (be + T) / ((al + T) * (s - 1)) * (1 - ((be + T) / (be + T + t)) ** (s - 1))


def bg_pk_alive(m, r, al, a, b, k, t, x, T):
    """P(k purchases in t | alive at T): FHL 2005 eq. 8 under the posterior"""
    R, A, bb = r + x, al + T, b + x + m
    def nb(j):
        return exp(loggamma(R + j) - loggamma(R) - loggamma(j + 1)) * (A / (A + t)) ** R * (t / (A + t)) ** j
    p = beta(a, bb + k) / beta(a, bb) * nb(k)
    if k > 0:
        # P(N >= k) of the negative binomial: the regularized incomplete beta
        p += beta(a + 1, bb + k - 1) / beta(a, bb) * betainc(k, R, 0, t / (A + t), regularized=True)
    return p


def pnbd_pk_alive(r, al, s, be, k, t, x, T):
    """P(k purchases in t | alive at T): alive throughout, or dead at u < t"""
    R, A, B = r + x, al + T, be + T
    def nb(u):
        return exp(loggamma(R + k) - loggamma(R) - loggamma(k + 1)) * (A / (A + u)) ** R * (u / (A + u)) ** k
    stay = nb(t) * (B / (B + t)) ** s
    # like u^k at 0, steep up to t for large k: points refined towards both ends
    pts = sorted(set([mpf(0), t] + [t * mpf(2) ** -j for j in range(1, 20)] + [t - t * mpf(2) ** -j for j in range(1, 20)]))
    die = quad(lambda u: nb(u) * s / B * (B / (B + u)) ** (s + 1), pts)
    return stay + die


def pnbd_dert(r, al, s, be, delta, x, T, pa):
    B = be + T
    return pa * (r + x) / (al + T) * B * hyperu(1, 2 - s, delta * B)


def bgbb_L(al, be, ga, de, x, tx, n):
    L = beta(al + x, be + n - x) / beta(al, be) * beta(ga, de + n) / beta(ga, de)
    for i in range(int(n - tx)):
        L += beta(al + x, be + tx - x + i) / beta(al, be) * beta(ga + 1, de + tx + i) / beta(ga, de)
    return L


def bgbb_palive(al, be, ga, de, x, tx, n):
    return beta(al + x, be + n - x) / beta(al, be) * beta(ga, de + n + 1) / beta(ga, de) / bgbb_L(al, be, ga, de, x, tx, n)


def bgbb_expected(al, be, ga, de, nstar, disc, x, tx, n):
    """FHS 2010 eq. 13 (disc = 0, gamma != 1) or the sum over the opportunities"""
    head = beta(al + x + 1, be + n - x) / beta(al, be) / bgbb_L(al, be, ga, de, x, tx, n)
    if disc == 0 and ga != 1:
        return head * de / (ga - 1) * gamma(ga + de) / gamma(1 + de) * (
            exp(loggamma(1 + de + n) - loggamma(ga + de + n)) - exp(loggamma(1 + de + n + nstar) - loggamma(ga + de + n + nstar)))
    return head * sum(beta(ga, de + n + k) / beta(ga, de) / (1 + disc) ** k for k in range(1, nstar + 1))


def clv_from(E, horizon, disc):
    prev, tot = mpf(0), mpf(0)
    for k in range(1, horizon + 1):
        cur = E(k)
        tot += (cur - prev) / (1 + disc) ** k
        prev = cur
    return tot


def next_purchase_cases(kind, P, mod, r, al, x, tx, T, pa, within):
    """clm.next_purchase over the grid: within = [(t, P(a purchase in t))]; the wait given alive, Lomax over the
    posterior Gamma(R = r + x, A = alpha + T) of the purchase rate, at 30
    digits: median A (2^(1/R) - 1), mean A / (R - 1) (Infinity when R <= 1,
    checked apart), the shrunk interval as the weighted mean of the rates
    (T/(alpha+T)) x/T + (alpha/(alpha+T)) r/alpha, inverted"""
    R, A = r + x, al + T
    mod_args = "%s, %%s, %s, %s, %s" % (mod, x, tx, T)
    lab = "%s %s next_purchase" % (kind, P)
    for t, pw in within:
        PRED.append(("%s(%s; %s,%s,%s) p_purchase_within" % (lab, t, x, tx, T),
                     "SELECT (clm.next_purchase(%s)).p_purchase_within" % (mod_args % t), pw))
    PRED.append(("%s(%s,%s,%s) median_wait" % (lab, x, tx, T),
                 "SELECT (clm.next_purchase(%s)).median_wait" % (mod_args % 1), A * (mpf(2) ** (1 / R) - 1)))
    if R > 1:
        PRED.append(("%s(%s,%s,%s) mean_wait" % (lab, x, tx, T),
                     "SELECT (clm.next_purchase(%s)).mean_wait" % (mod_args % 1), A / (R - 1)))
    else:
        INF_CASES.append(("%s(%s,%s,%s) mean_wait" % (lab, x, tx, T),
                          "SELECT (clm.next_purchase(%s)).mean_wait" % (mod_args % 1)))
    w = T / A
    own = x / T if T > 0 else mpf(0)
    PRED.append(("%s(%s,%s,%s) mean_interval" % (lab, x, tx, T),
                 "SELECT (clm.next_purchase(%s)).mean_interval" % (mod_args % 1),
                 1 / (w * own + (1 - w) * r / al)))


INF_CASES = []  # (label, sql) whose answer is Infinity


def f8(v):
    return repr(float(v))


t0 = time.time()
PRED = []  # (label, sql, truth)
CUST = [(0, 0, 1e-6), (0, 0, 1), (0, 0, 5000), (1, 0.5, 1), (1, 38, 38), (2, 30.43, 38.86),
        (5, 100, 3000), (50, 2000, 2000), (500, 4000, 5000), (500, 5000, 5000)]
HOR = [1, 39, 5000]
BG_PARS = [(0.243, 4.414, 0.793, 2.426), (0.001, 0.001, 0.001, 0.001), (50, 0.01, 200, 300),
           (0.5, 1000, 5, 0.01), (3, 0.5, 0.05, 40)]
PN_PARS = [(0.553, 10.58, 0.606, 11.67), (0.001, 0.001, 0.001, 0.001), (50, 0.01, 200, 300),
           (0.5, 1000, 1.0, 0.01), (3, 0.5, 0.05, 40)]
for m, kind in ((0, "bgnbd"), (1, "mbgnbd")):
    for P in BG_PARS:
        r, al, a, b = [mpf(v) for v in P]
        mod = "clm.make_model('%s', '{%s}')" % (kind, ",".join(map(str, P)))
        for (x, tx, T) in CUST:
            X, TX, TT = mpf(x), mpf(tx), mpf(T)
            pa = bg_palive(m, r, al, a, b, X, TX, TT)
            PRED.append(("%s %s p_alive(%s,%s,%s)" % (kind, P, x, tx, T),
                         "SELECT clm.p_alive(%s, %s, %s, %s)" % (mod, x, tx, T), pa))
            for t in HOR:
                PRED.append(("%s %s expected_purchases(%s; %s,%s,%s)" % (kind, P, t, x, tx, T),
                             "SELECT clm.expected_purchases(%s, %s, %s, %s, %s)" % (mod, t, x, tx, T),
                             pa * bg_ega(m, r, al, a, b, mpf(t), X, TT)))
            for h in (12, 104):
                PRED.append(("%s %s clv(%s, 0.01; %s,%s,%s)" % (kind, P, h, x, tx, T),
                             "SELECT clm.clv(%s, %s, 0.01, 1, 1, %s, %s, %s)" % (mod, h, x, tx, T),
                             clv_from(lambda k: pa * bg_ega(m, r, al, a, b, mpf(k), X, TT), h, mpf("0.01"))))
            PRED.append(("%s %s churn_probability(%s,%s,%s)" % (kind, P, x, tx, T),
                         "SELECT clm.churn_probability(%s, %s, %s, %s)" % (mod, x, tx, T), 1 - pa))
            for t in (1, 39):
                for k in (0, 3, 40):
                    PRED.append(("%s %s p_purchases(%s, %s; %s,%s,%s)" % (kind, P, k, t, x, tx, T),
                                 "SELECT clm.p_purchases(%s, %s, %s, %s, %s, %s)" % (mod, k, t, x, tx, T),
                                 pa * bg_pk_alive(m, r, al, a, b, k, mpf(t), X, TT) + (1 - pa if k == 0 else 0)))
                PRED.append(("%s %s p_no_purchase(%s; %s,%s,%s)" % (kind, P, t, x, tx, T),
                             "SELECT clm.p_no_purchase(%s, %s, %s, %s, %s)" % (mod, t, x, tx, T),
                             pa * bg_pk_alive(m, r, al, a, b, 0, mpf(t), X, TT) + (1 - pa)))
            # P(no purchase in t) = 1 - p + p (A/(A+t))^R: its complement as
            # p (1 - (A/(A+t))^R) with mpmath's expm1 (1 - P at 30 digits
            # cancels below 1e-30, where clm keeps its digits)
            next_purchase_cases(kind, P, mod, r, al, X, TX, TT, pa,
                                [(t, -pa * mp.expm1((r + X) * log((al + TT) / (al + TT + t)))) for t in (1, 39)])
for P in PN_PARS:
    r, al, s, be = [mpf(v) for v in P]
    mod = "clm.make_model('paretonbd', '{%s}')" % ",".join(map(str, P))
    for (x, tx, T) in CUST:
        X, TX, TT = mpf(x), mpf(tx), mpf(T)
        pa, churn = pnbd_palive_churn(r, al, s, be, X, TX, TT)
        PRED.append(("paretonbd %s p_alive(%s,%s,%s)" % (P, x, tx, T),
                     "SELECT clm.p_alive(%s, %s, %s, %s)" % (mod, x, tx, T), pa))
        for t in HOR:
            PRED.append(("paretonbd %s expected_purchases(%s; %s,%s,%s)" % (P, t, x, tx, T),
                         "SELECT clm.expected_purchases(%s, %s, %s, %s, %s)" % (mod, t, x, tx, T),
                         pa * pnbd_ega(r, al, s, be, mpf(t), X, TT)))
        PRED.append(("paretonbd %s clv(12, 0.01; %s,%s,%s)" % (P, x, tx, T),
                     "SELECT clm.clv(%s, 12, 0.01, 1, 1, %s, %s, %s)" % (mod, x, tx, T),
                     clv_from(lambda k: pa * pnbd_ega(r, al, s, be, mpf(k), X, TT), 12, mpf("0.01"))))
        PRED.append(("paretonbd %s churn_probability(%s,%s,%s)" % (P, x, tx, T),
                     "SELECT clm.churn_probability(%s, %s, %s, %s)" % (mod, x, tx, T),
                     churn))
        for t in (39,):
            for k in (0, 3, 40):
                pk = pa * pnbd_pk_alive(r, al, s, be, k, mpf(t), X, TT) + (1 - pa if k == 0 else 0)
                PRED.append(("paretonbd %s p_purchases(%s, %s; %s,%s,%s)" % (P, k, t, x, tx, T),
                             "SELECT clm.p_purchases(%s, %s, %s, %s, %s, %s)" % (mod, k, t, x, tx, T), pk))
                if k == 0:
                    PRED.append(("paretonbd %s p_no_purchase(%s; %s,%s,%s)" % (P, t, x, tx, T),
                                 "SELECT clm.p_no_purchase(%s, %s, %s, %s, %s)" % (mod, t, x, tx, T), pk))
        # P(a purchase in t) = P(alive) (1 - P(none in t | alive)), the
        # complement of the decomposition of pnbd_pk_alive (alive throughout,
        # or dead before buying) taken at 60 digits, so that probabilities
        # down to 1e-40 keep 20 (clm sums the density of the first purchase
        # instead); t down to 1e-9 for small probabilities
        within = []
        for t in ("39", "1e-3", "1e-9"):
            with mp.workdps(60):
                q = 1 - pnbd_pk_alive(r, al, s, be, 0, mpf(t), X, TT)
            within.append((t, pa * q))
        next_purchase_cases("paretonbd", P, mod, r, al, X, TX, TT, pa, within)
        for delta in ("0.001", "0.1"):
            PRED.append(("paretonbd %s discounted_expected_transactions(%s; %s,%s,%s)" % (P, delta, x, tx, T),
                         "SELECT clm.discounted_expected_transactions(%s, %s, %s, %s, %s)" % (mod, delta, x, tx, T),
                         pnbd_dert(r, al, s, be, mpf(delta), X, TT, pa)))
for P in [(6.25, 3.74, 15.44), (0.01, 1.5, 0.001), (100, 200, 1e4), (2, 1.0001, 5)]:
    p, q, g = [mpf(v) for v in P]
    mod = "clm.make_model('gg', '{%s}')" % ",".join(map(str, P))
    for (x, z) in [(1, 0.01), (1, 1e6), (500, 22), (5, 1), (2, 22.35)]:
        PRED.append(("gg %s expected_spend(%s,%s)" % (P, x, z), "SELECT clm.expected_spend(%s, %s, %s)" % (mod, x, z),
                     p * (g + x * mpf(z)) / (p * x + q - 1)))
for P in [(1.204, 0.750, 0.657, 2.783), (0.001, 0.001, 0.001, 0.001), (50, 80, 200, 300), (0.5, 5, 1.0, 0.1)]:
    al, be, ga, de = [mpf(v) for v in P]
    mod = "clm.make_model('bgbb', '{%s}')" % ",".join(map(str, P))
    for (x, tx, n) in [(0, 0, 1), (0, 0, 6), (3, 5, 6), (6, 6, 6), (50, 100, 1000), (500, 500, 1000)]:
        PRED.append(("bgbb %s p_alive(%s,%s,%s)" % (P, x, tx, n), "SELECT clm.p_alive(%s, %s, %s, %s)" % (mod, x, tx, n),
                     bgbb_palive(al, be, ga, de, x, tx, n)))
        PRED.append(("bgbb %s churn_probability(%s,%s,%s)" % (P, x, tx, n), "SELECT clm.churn_probability(%s, %s, %s, %s)" % (mod, x, tx, n),
                     1 - bgbb_palive(al, be, ga, de, x, tx, n)))
        for ns in (1, 10, 1000):
            PRED.append(("bgbb %s expected_purchases(%s; %s,%s,%s)" % (P, ns, x, tx, n),
                         "SELECT clm.expected_purchases(%s, %s, %s, %s, %s)" % (mod, ns, x, tx, n),
                         bgbb_expected(al, be, ga, de, ns, 0, x, tx, n)))
        PRED.append(("bgbb %s clv(10, 0.1; %s,%s,%s)" % (P, x, tx, n),
                     "SELECT clm.clv(%s, 10, 0.1, 1, 1, %s, %s, %s)" % (mod, x, tx, n),
                     bgbb_expected(al, be, ga, de, 10, mpf("0.1"), x, tx, n)))
for P in [(0.704, 1.182), (0.001, 0.001), (100, 1e4), (5, 0.01)]:
    ga, de = [mpf(v) for v in P]
    mod = "clm.make_model('sbg', '{%s}')" % ",".join(map(str, P))
    for t in (1, 5, 1000, 100000):
        PRED.append(("sbg %s survival(%s)" % (P, t), "SELECT clm.survival(%s, %s)" % (mod, t),
                     beta(ga, de + t) / beta(ga, de)))
        PRED.append(("sbg %s retention_rate(%s)" % (P, t), "SELECT clm.retention_rate(%s, %s)" % (mod, t),
                     (de + t - 1) / (ga + de + t - 1)))

t_ref = time.time() - t0
res = run_queries([(i, q) for i, (_, q, _) in enumerate(PRED)])
worst = {}
refused = 0
agree = 0
for i, (label, q, truth) in enumerate(PRED):
    v = res[i]
    fn = label.split()[0] + " " + label.split(")")[-2].split()[-1].split("(")[0] if False else label.split(" ")[0] + " " + label[label.rindex(") ") + 2:].split("(")[0]
    if v.startswith("ERR "):
        code = v.split()[1]
        refused += 1
        check(code not in ("XX000", "XX001") and code[:2] in ("22", "54", "0A"), "%s: error %s" % (label, v))
        continue
    got = mpf(v)
    err = abs(got - truth)
    rel = err / abs(truth) if truth != 0 else err
    ok = err <= REL * abs(truth) + ABS
    if ok:
        agree += 1
    check(ok, "%s = %s, independent %s (relative error %.3g)" % (label, v, mp.nstr(truth, 17), float(rel)))
    if err > ABS and (fn not in worst or rel > worst[fn][0]):
        worst[fn] = (rel, label)
print("predictions: %d cases (references in %.1f s): %d agree to 1e-8, %d refused with an error" %
      (len(PRED), t_ref, agree, refused))
res = run_queries([(i, q) for i, (_, q) in enumerate(INF_CASES)])
for i, (label, q) in enumerate(INF_CASES):
    check(res[i] == "Infinity", "%s = %s, want Infinity (r + x <= 1)" % (label, res[i]))
print("next purchase: %d mean waits of customers with r + x <= 1 are Infinity" % len(INF_CASES))
for fn in sorted(worst):
    print("  worst relative error %-30s %.2e  (%s)" % (fn, float(worst[fn][0]), worst[fn][1]))

# -- part 3: issue 18 item 5 -------------------------------------------------
if os.environ.get("STRESS_SKIP_ITEM5") != "1":
    t0 = time.time()
    out, _ = psql("""
CREATE TABLE ev5 AS SELECT * FROM clm.generate_events(50000)
  UNION ALL SELECT * FROM clm.generate_events(1000, seed => 7, first_customer => 49501);
CREATE TABLE prof5 AS SELECT customer_id, clm.profile(occurred_at::date, amount) p FROM ev5
  WHERE event_type = 'purchase' GROUP BY customer_id;
SELECT (clm.model_info(clm.bgnbd_fit(p, '2025-01-01', 'week') FILTER (WHERE customer_id <> 1))).iterations,
       (clm.model_info(clm.bgnbd_fit(p, '2025-01-01', 'week'))).iterations,
       (clm.model_info(clm.bgnbd_fit(p, '2025-01-01', 'week') FILTER (WHERE customer_id <> 1))).converged
FROM prof5;
""")
    a, b, c = out.strip().split("\t")
    print("item 5: refit without customer 1: %s iterations (converged %s), with it: %s (%.1f s)" % (a, c, b, time.time() - t0))
    check(c == "t" and int(a) <= int(b) + 3, "item 5: %s iterations against %s for the neighbour" % (a, b))

subprocess.run(["dropdb", "--if-exists", DB], capture_output=True)
print("%d passed, %d failed" % (passed, failed))
sys.exit(0 if failed == 0 else 1)
