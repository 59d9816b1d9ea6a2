#!/usr/bin/python3
"""Benchmark helper for bench_models.sh: synthetic data and the scipy fits.

  bench_models.py generate N OUT.csv      BG/NBD customers (x, t_x, T) in weeks,
                                          times rounded to whole days
  bench_models.py scipy IN.csv            BG/NBD and Pareto/NBD fits with
                                          scipy.optimize (L-BFGS-B on log
                                          parameters, analytic-free, numerical
                                          gradient) on the distinct tuples with
                                          weights, and BG/NBD on the raw rows
"""
import sys
import time
import numpy as np
from scipy import special as sp, optimize as so


def generate(n, out, r=0.243, alpha=4.414, a=0.793, b=2.426, seed=42):
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.integers(7, 7 * 52 + 1, n) / 7.0          # age 1..52 weeks in days
    t = np.zeros(n)
    x = np.zeros(n)
    tx = np.zeros(n)
    alive = np.ones(n, bool)
    while alive.any():
        idx = np.nonzero(alive)[0]
        t[idx] += rng.exponential(1.0 / np.maximum(lam[idx], 1e-300))
        inside = t[idx] <= T[idx]
        buy = idx[inside]
        x[buy] += 1
        tx[buy] = t[buy]
        alive[idx[~inside]] = False
        drop = buy[rng.random(buy.size) < p[buy]]
        alive[drop] = False
    tx = np.floor(tx * 7) / 7.0                          # days
    np.savetxt(out, np.column_stack([x, tx, T]), fmt="%.0f,%.10g,%.10g")


def bgnbd_ll(lp, x, tx, T, w):
    r, al, a, b = np.exp(lp)
    A1 = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(al)
    A2 = sp.betaln(a, b + x) - sp.betaln(a, b)
    A3 = -(r + x) * np.log(al + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        A4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(al + tx), -np.inf)
    return -np.sum(w * (A1 + A2 + np.logaddexp(A3, A4))) / np.sum(w)


def pnbd_ll(lp, x, tx, T, w):
    r, al, s, be = np.exp(lp)
    m, o = (al, be) if al >= be else (be, al)
    bb = s + 1 if al >= be else r + x
    N = r + s + x
    F1 = sp.hyp2f1(N, bb, N + 1, (m - o) / (m + tx)) / (m + tx) ** N
    F2 = sp.hyp2f1(N, bb, N + 1, (m - o) / (m + T)) / (m + T) ** N
    with np.errstate(all="ignore"):
        L = np.exp(sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(al) + s * np.log(be)) * \
            (1 / ((al + T) ** (r + x) * (be + T) ** s) + s / N * (F1 - F2))
        v = -np.sum(w * np.log(L)) / np.sum(w)
    return v if np.isfinite(v) else 1e10


def scipy_fits(path):
    d = np.loadtxt(path, delimiter=",")
    x, tx, T = d[:, 0], d[:, 1], d[:, 2]
    t0 = time.perf_counter()
    u, inv = np.unique(d, axis=0, return_inverse=True)
    w = np.bincount(inv.ravel()).astype(float)
    t_hist = time.perf_counter() - t0
    res = {}
    for name, f, x0 in [("bgnbd", bgnbd_ll, np.zeros(4)), ("paretonbd", pnbd_ll, np.log([0.5, 10, 0.5, 10]))]:
        t0 = time.perf_counter()
        o = so.minimize(f, x0, args=(u[:, 0], u[:, 1], u[:, 2], w), method="L-BFGS-B")
        res[name] = (time.perf_counter() - t0 + t_hist, np.exp(o.x), -o.fun * w.sum(), o.success)
    t0 = time.perf_counter()
    o = so.minimize(bgnbd_ll, np.zeros(4), args=(x, tx, T, np.ones_like(x)), method="L-BFGS-B")
    res["bgnbd_raw_rows"] = (time.perf_counter() - t0, np.exp(o.x), -o.fun * len(x), o.success)
    print("distinct tuples: %d of %d rows" % (len(w), len(x)))
    for k, (sec, par, ll, ok) in res.items():
        print("scipy %-15s %8.3f s  params %s  LL %.3f  success %s" % (k, sec, np.array2string(par, precision=4), ll, ok))


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(int(sys.argv[2]), sys.argv[3])
    else:
        scipy_fits(sys.argv[2])
