#!/usr/bin/python3
"""Independent cross-check of the clm model numbers (scipy, not clm code).

Run: /usr/bin/python3 test/unit/crosscheck_models.py
Every number that test_models.c asserts without a published source is
printed here, computed from the textbook formulas with scipy.special
(hyp2f1, betaln, gammaln), scipy.integrate.quad and scipy.optimize.
"""
import os
import numpy as np
from scipy import special as sp, optimize as so, integrate as si

D = os.environ.get("CLM_DATA_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
cd = np.genfromtxt(os.path.join(D, "cdnow_customers_summary_with_transactions.csv"), delimiter=",", names=True)
x, tx, T, zb = cd["x"], cd["t_x"], cd["T"], cd["zbar"]


def bgnbd_ll(p):
    r, al, a, b = np.exp(p)
    A1 = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(al)
    A2 = sp.betaln(a, b + x) - sp.betaln(a, b)
    A3 = -(r + x) * np.log(al + T)
    A4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(al + tx), -np.inf)
    return np.sum(A1 + A2 + np.logaddexp(A3, A4))


def pnbd_ll(p):
    # Fader-Hardie (2005) note, eq. with 2F1 (scipy.special.hyp2f1)
    r, al, s, be = np.exp(p)
    m, o = (al, be) if al >= be else (be, al)
    bb = s + 1 if al >= be else r + x
    N = r + s + x
    F1 = sp.hyp2f1(N, bb, N + 1, (m - o) / (m + tx)) / (m + tx) ** N
    F2 = sp.hyp2f1(N, bb, N + 1, (m - o) / (m + T)) / (m + T) ** N
    A0 = F1 - F2
    L = np.exp(sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(al) + s * np.log(be)) * \
        (1 / ((al + T) ** (r + x) * (be + T) ** s) + s / N * A0)
    return np.sum(np.log(L))


def gg_ll(p, xs, zs):
    pp, q, g = np.exp(p)
    px = pp * xs
    return np.sum(sp.gammaln(px + q) - sp.gammaln(px) - sp.gammaln(q) + q * np.log(g) + px * np.log(xs)
                  + (px - 1) * np.log(zs) - (px + q) * np.log(g + xs * zs))


def fit(f, p0):
    r = so.minimize(lambda p: -f(p), p0, method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-10, maxiter=40000, maxfev=40000))
    return np.exp(r.x), -r.fun


pb, llb = fit(bgnbd_ll, np.zeros(4))
print("bgnbd", pb, llb)
pp, llp = fit(pnbd_ll, np.log([0.5, 10, 0.5, 10]))
print("paretonbd", pp, llp)
rep = x > 0
pg, llg = fit(lambda p: gg_ll(p, x[rep], zb[rep]), np.zeros(3))
print("gg", pg, llg)

# BG/NBD conditional expectation, FHL 2005 eq. 10 with hyp2f1, at the published parameters
r, al, a, b = 0.242594150135163, 4.41358964344441, 0.792919156875463, 2.42589430574212


def bg_E(t, x, tx, T):
    h = sp.hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t))
    num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * h)
    den = 1 + (x > 0) * a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x)
    return num / den


def bg_pa(x, tx, T):
    return 1 / (1 + (x > 0) * a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x))


print("bg E(39|2,30.43,38.86)", bg_E(39, 2, 30.43, 38.86), "palive", bg_pa(2, 30.43, 38.86))
print("bg E(39|0,0,38.86)", bg_E(39, 0, 0, 38.86), "palive", bg_pa(0, 0, 38.86))
print("bg E(39|26,30.86,31)", bg_E(39, 26, 30.86, 31), "palive", bg_pa(26, 30.86, 31))
print("bg E(10|5,20,40)", bg_E(10, 5, 20, 40), "palive", bg_pa(5, 20, 40))


# BG/NBD P(Y(t)=k | alive posterior) by 2-D integration over lambda, p
def bg_pk(k, t, xx, txx, TT):
    pa = bg_pa(xx, txx, TT)
    R, A, bb = r + xx, al + TT, b + xx

    def inner(p):
        # E_lambda of (1-p)^k Pois(k; lam t) + p (1-p)^(k-1) (1 - sum_{j<k} Pois)
        nb = lambda j: np.exp(sp.gammaln(R + j) - sp.gammaln(R) - sp.gammaln(j + 1) + R * np.log(A / (A + t)) + j * np.log(t / (A + t)))
        v = (1 - p) ** k * nb(k)
        if k > 0:
            v += p * (1 - p) ** (k - 1) * (1 - sum(nb(j) for j in range(k)))
        return v * np.exp((a - 1) * np.log(p) + (bb - 1) * np.log1p(-p) - sp.betaln(a, bb))
    v = si.quad(inner, 0, 1, limit=200, epsabs=1e-13)[0]
    return pa * v + (k == 0) * (1 - pa)


for k in range(3):
    print("bg P(Y(39)=%d|2,30.43,38.86)" % k, bg_pk(k, 39, 2, 30.43, 38.86))

# Pareto/NBD predictions at the fitted parameters by quadrature of the defining integrals
r2, al2, s2, be2 = pp


def pn_pa(xx, txx, TT):
    I = si.quad(lambda u: (al2 + u) ** -(r2 + xx) * (be2 + u) ** -(s2 + 1), txx, TT, epsabs=0, epsrel=1e-13)[0]
    e1 = (al2 + TT) ** -(r2 + xx) * (be2 + TT) ** -s2
    return e1 / (e1 + s2 * I)


def pn_E(t, xx, txx, TT):
    return pn_pa(xx, txx, TT) * (r2 + xx) * (be2 + TT) / ((al2 + TT) * (s2 - 1)) * (1 - ((be2 + TT) / (be2 + TT + t)) ** (s2 - 1))


print("pnbd params", pp)
for c in [(2, 30.43, 38.86), (0, 0, 38.86), (26, 30.86, 31)]:
    print("pnbd", c, "palive", pn_pa(*c), "E39", pn_E(39, *c))


# Pareto/NBD DERT by FHL 2005 RFM/CLV closed form with Tricomi U (scipy hyperu)
def pn_dert(delta, xx, txx, TT):
    I = si.quad(lambda u: (al2 + u) ** -(r2 + xx) * (be2 + u) ** -(s2 + 1), txx, TT, epsrel=1e-13)[0]
    Lc = ((al2 + TT) ** -(r2 + xx) * (be2 + TT) ** -s2 + s2 * I)  # L / (G(r+x) al^r be^s / G(r))
    return (delta ** (s2 - 1) * (r2 + xx) * sp.hyperu(s2, s2, delta * (be2 + TT))
            / ((al2 + TT) ** (r2 + xx + 1)) / Lc)


print("pnbd dert(0.0014|2,30.43,38.86)", pn_dert(0.0014, 2, 30.43, 38.86))

# BG/BB on donations
dn = np.genfromtxt(os.path.join(D, "donations.csv"), delimiter=",", names=True)


def bgbb_ll1(p, xx, tt, n):
    al, be, ga, de = p
    v = sp.betaln(al + xx, be + n - xx) - sp.betaln(al, be) + sp.betaln(ga, de + n) - sp.betaln(ga, de)
    terms = [v] + [sp.betaln(al + xx, be + tt - xx + i) - sp.betaln(al, be) + sp.betaln(ga + 1, de + tt + i) - sp.betaln(ga, de)
                   for i in range(int(n - tt))]
    return np.logaddexp.reduce(terms)


def bgbb_ll(lp):
    p = np.exp(lp)
    return sum(w * bgbb_ll1(p, xx, tt, n) for xx, tt, n, w in zip(dn["frequency"], dn["recency"], dn["periods"], dn["weights"]))


pbb, llbb = fit(bgbb_ll, np.zeros(4))
print("bgbb", pbb, llbb)
al, be, ga, de = pbb
for c in [(0, 0, 6), (3, 6, 6), (6, 6, 6), (1, 1, 6)]:
    xx, tt, n = c
    L = np.exp(bgbb_ll1(pbb, *c))
    pa = np.exp(sp.betaln(al + xx, be + n - xx) - sp.betaln(al, be) + sp.betaln(ga, de + n + 1) - sp.betaln(ga, de)) / L
    # FHS 2010 eq. 13 closed form (gamma != 1), n* = 5
    ns = 5
    E = (np.exp(sp.betaln(al + xx + 1, be + n - xx) - sp.betaln(al, be)) * de / (ga - 1)
         * np.exp(sp.gammaln(ga + de) - sp.gammaln(1 + de))
         * (np.exp(sp.gammaln(1 + de + n) - sp.gammaln(ga + de + n)) - np.exp(sp.gammaln(1 + de + n + ns) - sp.gammaln(ga + de + n + ns)))) / L
    print("bgbb", c, "palive", pa, "E5", E)

# sBG, Fader & Hardie 2007 regular and high-end cohorts, years 0..7 used for the fit
for name, surv in [("regular", [1000, 631, 468, 382, 326, 289, 262, 241]),
                   ("highend", [1000, 869, 743, 653, 593, 551, 517, 491])]:
    def ll(lp):
        g, d = np.exp(lp)
        s = 0.0
        for t in range(1, len(surv)):
            s += (surv[t - 1] - surv[t]) * (sp.betaln(g + 1, d + t - 1) - sp.betaln(g, d))
        s += surv[-1] * (sp.betaln(g, d + len(surv) - 1) - sp.betaln(g, d))
        return s
    pg2, l2 = fit(ll, np.zeros(2))
    S = [np.exp(sp.betaln(pg2[0], pg2[1] + t) - sp.betaln(*pg2)) for t in range(13)]
    print("sbg", name, pg2, l2, "S(12)*1000", S[12] * 1000)


# MBG/NBD (Batislam et al. 2007) on CDNOW, same data
def mbgnbd_ll(p):
    r, al, a, b = np.exp(p)
    A1 = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(al)
    A2 = sp.betaln(a, b + x + 1) - sp.betaln(a, b)
    A3 = -(r + x) * np.log(al + T)
    A4 = np.log(a) - np.log(b + x) - (r + x) * np.log(al + tx)
    return np.sum(A1 + A2 + np.logaddexp(A3, A4))


pm, llm = fit(mbgnbd_ll, np.zeros(4))
print("mbgnbd", pm, llm)
