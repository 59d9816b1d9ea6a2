#!/usr/bin/python3
"""test/fuzz/fuzz.py: seeded fuzzer of clm's types and state-taking functions.

Entry points, enumerated from the catalog (schema clm), so that a new type or
function is covered without editing this file:
  - type text input:     every base type of schema clm with its own input
                         function: mutants of valid values (text);
  - type binary receive: the same types: mutants of valid send() output,
                         loaded with COPY ... (FORMAT binary);
  - direct calls:        every C function of schema clm that takes a state
                         type (the transition type of a clm aggregate:
                         bigint[], float8[], clm.profile, clm.rfm_state,
                         clm.model_histogram, ...) other than type I/O:
                         transition, combine, final and rows functions,
                         accessors; called with mutated states, NULLs and
                         extreme arguments;
  - user aggregates:     every such function whose first argument type is
                         its result type (a possible transition function),
                         as the transition function of a temporary aggregate
                         whose initial condition is a mutated state.
Every entry point gets at least --mutants mutants (default 2000).  A crash is
a dead connection or a changed pg_postmaster_start_time(), checked after every
batch; the batch is then replayed one statement at a time to name the culprit.
Accepted type values must round-trip exactly: text out -> in -> out is the
same text and the same send() bytes, and a binary COPY of the accepted values
loads back to the same text.  Prints what it covered and, as its last line,
"N passed, M failed".
"""
import argparse
import io
import os
import pickle
import random
import re
import struct
import sys
import time

import psycopg2

SQLSTATE_OK = "ok"

# ---------------------------------------------------------------- connection


class Server:
    """One connection; notices crashes (lost connection, postmaster restart)."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = None
        self.start_time = None
        self.crashes = []
        self.connect()
        self.start_time = self.postmaster_start()

    def connect(self, wait=60):
        deadline = time.time() + wait
        while True:
            try:
                self.conn = psycopg2.connect(self.dsn)
                self.conn.autocommit = True
                return
            except psycopg2.OperationalError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)

    def postmaster_start(self):
        cur = self.conn.cursor()
        cur.execute("SELECT pg_catalog.pg_postmaster_start_time()")
        return cur.fetchone()[0]

    def alive(self):
        """True if the server neither restarted nor dropped us; reconnects."""
        try:
            if self.postmaster_start() == self.start_time:
                return True
        except psycopg2.Error:
            pass
        # the connection died or the postmaster restarted: a crash
        try:
            self.conn.close()
        except Exception:
            pass
        time.sleep(1)
        self.connect()
        self.start_time = self.postmaster_start()
        return False

    def execute(self, sql, args=None):
        cur = self.conn.cursor()
        cur.execute(sql, args)
        return cur


# ------------------------------------------------------------------ helpers

def lit(v):
    """SQL literal of a Python value (None -> NULL)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        v = "true" if v else "false"
    return "'" + str(v).replace("'", "''") + "'"


def typed(v, typ):
    return "%s::%s" % (lit(v), typ)


INT8_EXTREMES = [0, 1, -1, 2, 3, 7, 8, 100, 255, 256, 65535, 2 ** 31 - 1, -2 ** 31,
                 2 ** 31, 2 ** 32, 2 ** 62, 2 ** 63 - 1, -2 ** 63, -2 ** 63 + 1,
                 8766, 8947, 36600, 100000, 100001, 250000, -2451545, 100000000,
                 101, 102, 4, 9, 11, 64]
FLOAT_EXTREMES = ["0", "-0", "1", "-1", "0.5", "2", "30", "1e308", "-1e308", "5e-324",
                  "1e-300", "NaN", "Infinity", "-Infinity", "1e15", "123456789.125"]


class Mutator:
    """Mutations of texts, bytes and arrays, from one seeded generator."""

    def __init__(self, rng):
        self.rng = rng

    def number(self):
        r = self.rng
        c = r.random()
        if c < 0.5:
            return str(r.choice(INT8_EXTREMES))
        if c < 0.7:
            return r.choice(FLOAT_EXTREMES)
        if c < 0.85:
            return str(r.randint(-1000, 100000))
        return str(r.choice([10 ** 19, -10 ** 19, 10 ** 40, 2 ** 64]))

    def text(self, s, pool):
        r = self.rng
        s = s or ""
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            c = r.random()
            nums = list(re.finditer(r"-?\d+(\.\d+)?", s))
            if c < 0.35 and nums:
                m = r.choice(nums)
                s = s[:m.start()] + self.number() + s[m.end():]
            elif c < 0.45 and s:
                i = r.randrange(len(s))
                s = s[:i] + s[i + 1:]
            elif c < 0.55:
                i = r.randrange(len(s) + 1)
                s = s[:i] + r.choice([",", ":", " ", "=", "{", "}", "[", "]", "\"", "-", ".",
                                      "0", "9", "x", "\\", "e", "n=", "'"]) + s[i:]
            elif c < 0.62 and s:
                i = r.randrange(len(s) + 1)
                j = r.randrange(i, len(s) + 1)
                s = s[:j] + s[i:j] + s[j:]
            elif c < 0.68 and s:
                s = s[:r.randrange(len(s) + 1)]
            elif c < 0.76 and pool:
                o = r.choice(pool) or ""
                i = r.randrange(len(s) + 1)
                j = r.randrange(len(o) + 1)
                s = s[:i] + o[j:]
            elif c < 0.82 and s:
                i = r.randrange(len(s))
                s = s[:i] + chr(r.choice([0x20, 0x2c, 0x3a, 0x7f, 0xe9, 0x263a, 0x41])) + s[i + 1:]
            elif c < 0.9 and nums:
                # repeat one number-bearing segment many times (long inputs)
                m = r.choice(nums)
                seg = s[m.start():m.end()] + ","
                s = s[:m.start()] + seg * r.choice([2, 10, 100, 1000]) + s[m.start():]
            else:
                s = s.replace(" ", r.choice(["  ", "", "\t", " "]), 1)
        return s.replace("\x00", "")

    def binary(self, b, pool):
        r = self.rng
        b = bytearray(b)
        for _ in range(r.choice([1, 1, 2, 3])):
            c = r.random()
            if c < 0.25 and b:
                i = r.randrange(len(b))
                b[i] ^= 1 << r.randrange(8)
            elif c < 0.5 and len(b) >= 4:
                i = r.randrange(len(b) - 3)
                w = r.choice([4, 8]) if len(b) - i >= 8 else 4
                v = r.choice(INT8_EXTREMES) & ((1 << (8 * w)) - 1)
                b[i:i + w] = v.to_bytes(w, "big")
            elif c < 0.65:
                b = b[:r.randrange(len(b) + 1)]
            elif c < 0.75:
                i = r.randrange(len(b) + 1)
                b[i:i] = bytes(r.randrange(256) for _ in range(r.choice([1, 4, 8, 16])))
            elif c < 0.85 and pool:
                o = r.choice(pool)
                i = r.randrange(len(b) + 1)
                b = b[:i] + bytearray(o[r.randrange(len(o) + 1):])
            elif c < 0.92 and len(b) > 1:
                i = r.randrange(len(b))
                j = r.randrange(i, len(b) + 1)
                b[j:j] = b[i:j]
            elif b:
                i = r.randrange(len(b))
                b[i] = r.choice([0, 0xff, 0x7f, 0x80, 1])
        return bytes(b)

    def array(self, s, pool, float_elems):
        """Mutate the text of a one-dimensional array."""
        r = self.rng
        m = re.match(r"^(\[[^\]]*\]=)?\{(.*)\}$", s or "{}")
        elems = m.group(2).split(",") if m and m.group(2) != "" else []
        ext = FLOAT_EXTREMES if float_elems else [str(x) for x in INT8_EXTREMES]
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            c = r.random()
            if c < 0.3 and elems:
                # the header (first elements) most often
                i = r.randrange(min(len(elems), 12)) if r.random() < 0.6 else r.randrange(len(elems))
                elems[i] = r.choice(ext) if r.random() < 0.7 else str(r.randint(-50, 50))
            elif c < 0.4 and elems:
                elems = elems[:r.randrange(len(elems))]
            elif c < 0.5:
                elems += [r.choice(ext) for _ in range(r.choice([1, 2, 4, 64]))]
            elif c < 0.55 and elems:
                i = r.randrange(len(elems))
                elems[i] = "NULL"
            elif c < 0.62 and pool:
                o = r.choice(pool)
                om = re.match(r"^(\[[^\]]*\]=)?\{(.*)\}$", o or "{}")
                oe = om.group(2).split(",") if om and om.group(2) else []
                k = r.randrange(len(oe) + 1)
                elems = elems[:r.randrange(len(elems) + 1)] + oe[k:]
            elif c < 0.68 and elems:
                i = r.randrange(len(elems))
                elems[i] = str(int(float(elems[i])) + r.choice([-1, 1])) \
                    if re.match(r"^-?\d+$", elems[i]) else elems[i]
            elif c < 0.72:
                return "{" + ",".join("{%s}" % e for e in elems[:4]) + "}" if elems else "{{}}"
            elif c < 0.76:
                return "[%d:%d]={%s}" % (0, len(elems) - 1, ",".join(elems)) if elems else "{}"
            elif c < 0.8:
                elems = []
            else:
                i = r.randrange(len(elems) + 1)
                elems[i:i] = [r.choice(ext)]
        return "{" + ",".join(elems) + "}"


# ------------------------------------------------------------- the catalog

CATALOG_FUNCS = """
SELECT p.oid, p.proname, p.prosrc, p.proretset, p.proisstrict,
       p.prorettype::regtype::text,
       ARRAY(SELECT t::regtype::text FROM unnest(p.proargtypes) t) AS argtypes,
       p.prorettype, p.proargtypes::oid[]
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language l ON l.oid = p.prolang
 WHERE n.nspname = 'clm' AND l.lanname = 'c' AND p.prokind = 'f'
 ORDER BY p.proname, p.oid
"""

CATALOG_TYPES = """
SELECT t.typname, t.typinput::text, t.typreceive::text, t.typsend::text,
       t.typoutput::text
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  JOIN pg_catalog.pg_proc i ON i.oid = t.typinput
  JOIN pg_catalog.pg_namespace ni ON ni.oid = i.pronamespace
 WHERE n.nspname = 'clm' AND t.typtype = 'b' AND ni.nspname = 'clm'
 ORDER BY t.typname
"""

CATALOG_STATE_TYPES = """
SELECT DISTINCT a.aggtranstype::regtype::text
  FROM pg_catalog.pg_aggregate a
  JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'clm'
"""

# the plpgsql runner: every statement in its own subtransaction; for user
# aggregates, the initial condition of aggregate agg is set before each one
# (superuser: in pg_aggregate; otherwise the aggregate is re-created).
RUNNER = r"""
CREATE FUNCTION pg_temp.fz_run(agg regprocedure, agg_ddl text, inits text[], sqls text[])
RETURNS text[] LANGUAGE plpgsql AS $fz$
DECLARE
  res text[] := '{}';
  r text;
  i int;
  su bool := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
  FOR i IN 1 .. coalesce(array_length(sqls, 1), 0) LOOP
    BEGIN
      IF agg IS NOT NULL THEN
        IF su THEN
          UPDATE pg_catalog.pg_aggregate SET agginitval = inits[i] WHERE aggfnoid = agg;
        ELSE
          EXECUTE 'DROP AGGREGATE ' || agg::text;
          EXECUTE pg_catalog.format(agg_ddl, inits[i]);
        END IF;
      END IF;
      EXECUTE sqls[i] INTO r;
      res := res || 'ok'::text;
    EXCEPTION WHEN OTHERS THEN
      res := res || SQLSTATE::text;
    END;
  END LOOP;
  RETURN res;
END
$fz$;
"""

# plausible and extreme arguments by type (None is NULL)
ARG_POOLS = {
    "date": ["2024-01-01", "2024-06-30", "2024-03-15", "2023-12-31", "2024-12-31", "2025-01-01",
             "2000-01-01", "1999-12-31", "2100-01-01", "infinity", "-infinity",
             "4713-11-24 BC", "5874897-12-31", "1970-01-01", None],
    "text": ["day", "week", "month", "year", "", "exact", "on_or_after", "grid10", "default",
             "x" * 100, None],
    "integer": [0, 1, 2, 3, 5, 7, 9, 10, -1, 2147483647, -2147483648, None],
    "bigint": [1, 2, 42, -1, 0, 9223372036854775807, -9223372036854775808, None],
    "double precision": [0, 1, 2, 3, 10, 30, 0.5, -1, 4, 8, "1e308", "5e-324", "NaN", "Infinity",
                         "-Infinity", None],
    "numeric": [1, 0, -5, "12.3456", "1e20", "NaN", None],
    "boolean": [True, False, None],
    "integer[]": ["{0,1,4,13}", "{0,1}", "{0,2,3}", "{}", "{5,1}", "{0,250000}", None],
    "timestamp with time zone": ["2024-03-01 10:00+00", "2024-05-01 23:59+02", "infinity", None],
    "timestamp without time zone": ["2024-03-01 10:00", "infinity", None],
    "text[]": ["{web,store}", "{}", None],
}

# rows that build the seed profiles
PROFILE_SEEDS_SQL = """
SELECT clm.profile(d, a, ch)::text FROM (VALUES
  (1, '2024-01-05'::timestamptz, 10.5::numeric, 'web'), (1, '2024-02-05', 20, 'store'),
  (1, '2024-02-05 13:00', -3, 'web'), (1, '2024-04-01', NULL, 'email'),
  (2, '2023-06-01', 100, NULL), (2, '2024-06-01', 0, NULL),
  (3, '2024-03-03', NULL, 'app'),
  (4, '2024-01-01', 1, 'a'), (4, '2024-01-08', 1, 'b'), (4, '2024-01-15', 1, 'c'),
  (4, '2024-02-01', 1, 'a'), (4, '2024-05-20', 99.9999, 'd'),
  (5, '2000-01-01', 5, 'x'), (5, '2024-06-29', 5, 'y')) v(c, d, a, ch)
GROUP BY c
UNION ALL
SELECT clm.profile(d, 1::numeric, 'ch' || (i % 20))::text
  FROM generate_series(1, 40) i, LATERAL (SELECT '2023-01-01'::date + i * 9 AS d) s
"""


class Fuzzer:
    def __init__(self, server, seed, mutants, batch, verbose):
        self.s = server
        self.rng = random.Random(seed)
        self.mut = Mutator(self.rng)
        self.last_seed = None       # the seed state_mutant chose last
        self.n = mutants
        self.batch = batch
        self.verbose = verbose
        self.report = []            # (entry point, mutants, {outcome: count})
        self.failures = []
        self.pools = {}             # SQL type -> list of valid texts
        self.bin_pools = {}         # type -> list of valid send() bytes
        self.agg_seq = 0

    # -- running batches ----------------------------------------------------

    def run_batch(self, sqls, agg=None, agg_ddl=None, inits=None):
        """Outcomes ('ok' or a SQLSTATE) of the statements; crashes recorded."""
        try:
            cur = self.s.execute("SELECT pg_temp.fz_run(%s, %s, %s, %s)",
                                 (agg, agg_ddl, inits, sqls))
            out = cur.fetchone()[0]
        except psycopg2.Error as e:
            out = None
            err = e
        if out is not None and self.s.alive():
            return out
        if out is not None:
            err = "postmaster restarted"
        # a crash (or the batch itself failed): replay one at a time
        self.s.alive()
        self.restore(agg)
        res = []
        for i, q in enumerate(sqls):
            one_init = [inits[i]] if inits is not None else None
            try:
                cur = self.s.execute("SELECT pg_temp.fz_run(%s, %s, %s, %s)",
                                     (agg, agg_ddl, one_init, [q]))
                o = cur.fetchone()[0][0]
                if not self.s.alive():
                    o = "CRASH"
            except psycopg2.Error as e:
                if self.s.alive():
                    o = "E" + (e.pgcode or "?")
                else:
                    o = "CRASH"
            if o == "CRASH":
                self.failures.append("crash: %s%s" % (
                    ("initcond %s; " % lit(inits[i])) if inits is not None else "", q))
                self.restore(agg)
            res.append(o)
        if not any(o == "CRASH" for o in res):
            self.failures.append("batch failed without a crash: %s" % err)
        return res

    def runner_exists(self):
        cur = self.s.execute("SELECT pg_catalog.to_regprocedure("
                             "'pg_temp.fz_run(regprocedure,text,text[],text[])') IS NOT NULL")
        return cur.fetchone()[0]

    def restore(self, agg):
        """After a crash: the session's temporary objects again."""
        if not self.runner_exists():
            self.s.execute(RUNNER)
            self.s.execute("SET statement_timeout = '60s'")
        if agg is not None:
            cur = self.s.execute("SELECT pg_catalog.to_regprocedure(%s) IS NULL", (agg,))
            if cur.fetchone()[0]:
                self.s.execute(self.agg_plain)

    def tally(self, name, outcomes):
        now = time.time()
        if self.verbose:
            print("  %6.2f s  %s" % (now - self.t_last, name), flush=True)
        self.t_last = now
        counts = {}
        for o in outcomes:
            counts[o] = counts.get(o, 0) + 1
        self.report.append((name, len(outcomes), counts))
        if "CRASH" in counts:
            print("  CRASHES in %s: %d" % (name, counts["CRASH"]))

    # -- type input and receive ----------------------------------------------

    def type_seeds(self, typname):
        """Valid texts of clm.typname, made by clm's own functions."""
        q = {
            "profile": PROFILE_SEEDS_SQL,
            "rfm_breakpoints": """
                SELECT clm.rfm_breakpoints(p::clm.profile, '2024-06-30', n)::text
                  FROM (%s) s(p), (VALUES (2), (5), (9)) v(n) GROUP BY n
                UNION ALL SELECT clm.rfm_breakpoints_fixed('{180,90,30,7}', '{2,3,5,8}',
                  '{50,100,250,1000}')::text""" % PROFILE_SEEDS_SQL,
            "model": """
                WITH p AS (SELECT clm.profile(occurred_at, amount) p
                             FROM clm.generate_events(300, seed => 5) GROUP BY customer_id)
                SELECT clm.bgnbd_fit(p, '2024-06-30', 'week')::text FROM p
                UNION ALL SELECT clm.gg_fit(p, '2024-06-30', 'week')::text FROM p
                UNION ALL SELECT clm.make_model('bgnbd', '{0.5,2,0.7,3}')::text
                UNION ALL SELECT clm.bgnbd_fit(p, '2024-06-30', 'week', ARRAY[(random() < 0.5)::int, random()]::float8[],
                                               '{web,age}')::text FROM p
                UNION ALL SELECT 'paretonbd r=0.5 alpha=2 s=0.7 beta=3 covariates=de trans.de=0.5 life.de=-0.1'""",
            "cov_histogram": """
                SELECT 'bgnbd(web,de):0,0,52,3,0,1;2,30.5,52,1,1,0;5,40,52,2,1,1'::clm.cov_histogram::text
                UNION ALL SELECT 'paretonbd(z):1,2,3,1,0.5;0,0,10,4,-1'::clm.cov_histogram::text
                UNION ALL SELECT 'gg(z):2,30,0,3,1;3,12.5,0,1,0'::clm.cov_histogram::text
                UNION ALL SELECT 'bgnbd():1,2,3,1'::clm.cov_histogram::text""",
        }.get(typname)
        texts = []
        if q:
            try:
                texts = [r[0] for r in self.s.execute(q).fetchall() if r[0] is not None]
            except psycopg2.Error as e:
                self.failures.append("seeds of clm.%s: %s" % (typname, e))
                self.s.alive()
                self.restore(None)
        # states: what a transition function builds (temporary aggregates)
        texts += self.pools.get("clm." + typname, [])
        return texts

    def fuzz_type(self, typname, send, recv):
        full = "clm." + typname
        seeds = self.type_seeds(typname)
        if not seeds:
            seeds = [""]
        # text input: accepted values checked for an exact round trip
        mutants = [self.mut.text(self.rng.choice(seeds), seeds) for _ in range(self.n)]
        mutants[:len(seeds)] = seeds[:self.n]
        outcomes = []
        accepted = []
        for i in range(0, len(mutants), self.batch):
            chunk = mutants[i:i + self.batch]
            sqls = ["SELECT (%s::%s)::text" % (lit(m), full) for m in chunk]
            res = self.run_batch(sqls)
            outcomes += res
            accepted += [m for m, o in zip(chunk, res) if o == "ok"]
        self.tally("%s text input (%s)" % (full, "clm." + typname + "_in"), outcomes)
        self.check_round_trip(full, send, accepted, "text")
        values = self.accepted_texts(full, accepted)
        self.pools.setdefault(full, [])
        for v in values:
            if v not in self.pools[full]:
                self.pools[full].append(v)
        # binary receive: mutants of send() output through COPY (FORMAT binary)
        bins = []
        for v in values[:200]:
            cur = self.s.execute("SELECT %s(%s::%s)" % (send, lit(v), full))
            bins.append(bytes(cur.fetchone()[0]))
        if not bins:
            bins = [b""]
        self.bin_pools[full] = bins
        outcomes = []
        self.s.execute("DROP TABLE IF EXISTS pg_temp.fz_bin")
        self.s.execute("CREATE TEMP TABLE fz_bin (v %s)" % full)
        self.cur_type = full
        for k in range(self.n):
            b = bins[k] if k < len(bins) else self.mut.binary(self.rng.choice(bins), bins)
            outcomes.append(self.copy_binary(b))
        self.tally("%s binary receive (%s)" % (full, recv), outcomes)
        self.check_table_round_trip(full, send)

    def copy_binary(self, field):
        data = (b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0) +
                struct.pack("!hi", 1, len(field)) + field + struct.pack("!h", -1))
        try:
            self.s.conn.cursor().copy_expert("COPY fz_bin FROM STDIN (FORMAT binary)",
                                             io.BytesIO(data))
            o = "ok"
        except psycopg2.Error as e:
            o = e.pgcode or "?"
        if not self.s.alive():
            self.failures.append("crash: binary receive of %s" % field.hex())
            self.restore(None)
            self.s.execute("CREATE TEMP TABLE fz_bin (v %s)" % self.cur_type)
            return "CRASH"
        return o

    def accepted_texts(self, full, accepted):
        out = []
        for i in range(0, len(accepted), 500):
            cur = self.s.execute("SELECT DISTINCT (m::%s)::text FROM unnest(%%s::text[]) m" % full,
                                 (accepted[i:i + 500],))
            out += [r[0] for r in cur.fetchall()]
        return sorted(set(out))

    def check_round_trip(self, full, send, accepted, how):
        """out(in(s)) is a fixed point, in text and in send() bytes."""
        bad = 0
        for i in range(0, len(accepted), 500):
            cur = self.s.execute("""
                SELECT count(*) FROM unnest(%%s::text[]) m,
                  LATERAL (SELECT (m::%s)::text AS t) a
                 WHERE (a.t::%s)::text IS DISTINCT FROM a.t
                    OR %s(a.t::%s) IS DISTINCT FROM %s(m::%s)""" % (
                full, full, send, full, send, full), (accepted[i:i + 500],))
            bad += cur.fetchone()[0]
        self.round_trips.append((full + " " + how, len(accepted), bad))
        if bad:
            self.failures.append("%s: %d accepted %s values do not round-trip" % (full, bad, how))

    def check_table_round_trip(self, full, send):
        """Accepted binary values: text round trip, and a binary COPY out and in."""
        cur = self.s.execute("SELECT count(*) FROM fz_bin")
        n = cur.fetchone()[0]
        cur = self.s.execute("""
            SELECT count(*) FROM fz_bin
             WHERE ((v::text)::%s)::text IS DISTINCT FROM v::text
                OR %s((v::text)::%s) IS DISTINCT FROM %s(v)""" % (full, send, full, send))
        bad = cur.fetchone()[0]
        buf = io.BytesIO()
        self.s.conn.cursor().copy_expert(
            "COPY (SELECT v FROM fz_bin ORDER BY v::text) TO STDOUT (FORMAT binary)", buf)
        self.s.execute("DROP TABLE IF EXISTS pg_temp.fz_bin2")
        self.s.execute("CREATE TEMP TABLE fz_bin2 (v %s)" % full)
        buf.seek(0)
        self.s.conn.cursor().copy_expert("COPY fz_bin2 FROM STDIN (FORMAT binary)", buf)
        cur = self.s.execute("""
            SELECT count(*) FROM (SELECT v::text t, count(*) c FROM fz_bin GROUP BY 1) a
              FULL JOIN (SELECT v::text t, count(*) c FROM fz_bin2 GROUP BY 1) b USING (t)
             WHERE a.c IS DISTINCT FROM b.c""")
        bad += cur.fetchone()[0]
        self.round_trips.append((full + " binary", n, bad))
        if bad:
            self.failures.append("%s: %d accepted binary values do not round-trip" % (full, bad))

    # -- functions ------------------------------------------------------------

    def arg_value(self, typ):
        """A random literal of type typ."""
        r = self.rng
        if typ in self.state_types or typ.startswith("clm."):
            pool = self.pools.get(typ, [])
            if typ.endswith("[]") and not typ.startswith("clm."):
                if pool and r.random() < 0.8:
                    v = r.choice(pool)
                    if r.random() < 0.5:
                        v = self.mut.array(v, pool, typ.startswith("double"))
                    return typed(v, typ)
            if pool and r.random() < 0.9:
                return typed(r.choice(pool), typ)
            return typed(None, typ)
        if typ in ARG_POOLS:
            return typed(r.choice(ARG_POOLS[typ]), typ)
        return typed(None, typ)

    def call_sql(self, f, args):
        call = "clm.%s(%s)" % (f["name"], ", ".join(args))
        return "SELECT pg_catalog.count(x)::text FROM (SELECT (%s)::text AS x) s" % call

    def state_mutant(self, typ, seeds):
        r = self.rng
        self.last_seed = None
        if not seeds or r.random() < 0.03:
            return None
        v = self.last_seed = r.choice(seeds)
        if typ.startswith("clm."):
            # clm types: a valid value (mutants are fuzzed through the input)
            return v
        if r.random() < 0.1:
            return v
        return self.mut.array(v, seeds, typ.startswith("double"))

    def collect_seeds(self, funcs):
        """States made by every possible transition function, in an aggregate."""
        for f in funcs:
            if not f["trans"]:
                continue
            t0 = f["argtypes"][0]
            rest = f["argtypes"][1:]
            sig = "pg_temp.fz_seed(%s)" % ", ".join(rest)
            self.s.execute("DROP AGGREGATE IF EXISTS %s" % sig)
            self.seed_ddl = "CREATE AGGREGATE %s (sfunc = clm.%s, stype = %s)" % (
                sig, f["name"], t0)
            try:
                self.s.execute(self.seed_ddl)
            except psycopg2.Error:
                continue
            got = 0
            for attempt in range(40):
                rows = []
                fixed = [self.arg_value(t) for t in rest]
                for _ in range(self.rng.choice([1, 2, 3, 5])):
                    # the first argument (the row's value) varies, the rest stay
                    rows.append([self.arg_value(rest[0])] + fixed[1:])
                q = "SELECT pg_temp.fz_seed(%s)::text FROM (VALUES %s) v(%s)" % (
                    ", ".join("c%d" % i for i in range(len(rest))),
                    ", ".join("(%s)" % ", ".join(r) for r in rows),
                    ", ".join("c%d" % i for i in range(len(rest))))
                try:
                    v = self.s.execute(q).fetchone()[0]
                except psycopg2.Error:
                    if not self.s.alive():
                        self.failures.append("crash while seeding: %s" % q)
                        self.restore(None)
                        self.s.execute(self.seed_ddl)
                    continue
                # small states only: a century of daily counts is 2 MB of text
                if v is not None and len(v) <= 6000:
                    pool = self.pools.setdefault(t0, [])
                    if v not in pool:
                        pool.append(v)
                        got += 1
                    f["seeds"].append(v)
                    f["seed_args"][v] = fixed[1:]
            self.s.execute("DROP AGGREGATE IF EXISTS %s" % sig)

    def fuzz_direct(self, group):
        """One C function (all its SQL signatures): direct calls."""
        outcomes = []
        for i in range(0, self.n, self.batch):
            sqls = []
            for _ in range(min(self.batch, self.n - i)):
                f = self.rng.choice(group)
                seeds_by_type = {t: self.pools.get(t, []) for t in f["argtypes"]}
                args = []
                for t in f["argtypes"]:
                    if t in self.state_types and not t.startswith("clm."):
                        own = f["seeds"] if f["seeds"] and t == f["argtypes"][0] else []
                        seeds = own if own and self.rng.random() < 0.6 else seeds_by_type[t]
                        args.append(typed(self.state_mutant(t, seeds), t))
                    elif self.rng.random() < 0.05:
                        args.append(typed(None, t))
                    else:
                        args.append(self.arg_value(t))
                # most often the parameters the seed state was made with, so
                # that a mutated state meets the checks of its own range
                same = f["seed_args"].get(self.last_seed) if f["trans"] else None
                if same is not None and len(args) >= 2 and self.rng.random() < 0.7:
                    args[2:] = same
                sqls.append(self.call_sql(f, args))
            outcomes += self.run_batch(sqls)
        self.tally("%s direct (%s)" % (group_name(group), group[0]["src"]), outcomes)

    def fuzz_aggregate(self, group):
        """One C function as the sfunc of user aggregates (every signature)."""
        outcomes = []
        k = len(group)
        for j, f in enumerate(group):
            outcomes += self.fuzz_aggregate_one(f, self.n // k + (1 if j < self.n % k else 0))
        self.tally("%s as a user aggregate's sfunc, crafted initcond (%s)" % (
            group_name(group), group[0]["src"]), outcomes)

    def fuzz_aggregate_one(self, f, n):
        t0 = f["argtypes"][0]
        rest = f["argtypes"][1:]
        self.agg_seq += 1
        sig = "pg_temp.fz_agg%d(%s)" % (self.agg_seq, ", ".join(rest))
        ddl = "CREATE AGGREGATE %s (sfunc = clm.%s, stype = %s, initcond = %%L)" % (
            sig, f["name"], t0)
        seeds = f["seeds"] or self.pools.get(t0, [])
        # a strict sfunc needs an initcond: any valid one (replaced per mutant)
        first = seeds[0] if seeds else ("{}" if t0.endswith("[]") else None)
        self.agg_plain = "CREATE AGGREGATE %s (sfunc = clm.%s, stype = %s%s)" % (
            sig, f["name"], t0, (", initcond = %s" % lit(first)) if first is not None else "")
        self.s.execute(self.agg_plain)
        cols = ", ".join("c%d" % i for i in range(len(rest)))
        outcomes = []
        for i in range(0, n, self.batch):
            sqls = []
            inits = []
            for _ in range(min(self.batch, n - i)):
                self.last_seed = None
                if t0.startswith("clm."):
                    pool = self.pools.get(t0, [])
                    init = self.rng.choice(pool) if pool and self.rng.random() < 0.7 else \
                        self.mut.text(self.rng.choice(pool) if pool else "", pool)
                else:
                    init = self.state_mutant(t0, seeds) if seeds else "{}"
                inits.append(init)
                fixed = [self.arg_value(t) for t in rest]
                same = f["seed_args"].get(self.last_seed)
                if same is not None and self.rng.random() < 0.7:
                    fixed[1:] = same
                rows = [[self.arg_value(rest[0])] + fixed[1:]
                        for _ in range(self.rng.choice([1, 2, 3]))]
                sqls.append("SELECT (%s(%s))::text FROM (VALUES %s) v(%s)" % (
                    sig.split("(")[0], cols,
                    ", ".join("(%s)" % ", ".join(r) for r in rows), cols))
            outcomes += self.run_batch(sqls, agg=sig, agg_ddl=ddl, inits=inits)
        self.s.execute("DROP AGGREGATE IF EXISTS %s" % sig)
        return outcomes

    # -- the whole run --------------------------------------------------------

    def run(self, only=None):
        self.round_trips = []
        self.t_last = time.time()
        self.s.execute(RUNNER)
        self.state_types = set(r[0] for r in self.s.execute(CATALOG_STATE_TYPES).fetchall())
        types = self.s.execute(CATALOG_TYPES).fetchall()
        io_funcs = set()
        for t in types:
            io_funcs.update(x.split(".")[-1] for x in t[1:])
        funcs = []
        for row in self.s.execute(CATALOG_FUNCS).fetchall():
            oid, name, src, retset, strict, rettype, argtypes = row[:7]
            if name in io_funcs or "internal" in argtypes or rettype in ("internal", "trigger"):
                continue
            if not any(t in self.state_types for t in argtypes):
                continue
            funcs.append({"oid": oid, "name": name, "src": src, "retset": retset,
                          "rettype": rettype, "argtypes": argtypes, "seeds": [], "seed_args": {},
                          "trans": (len(argtypes) >= 2 and argtypes[0] == rettype and
                                    not retset and rettype in self.state_types)})
        if only:
            funcs = [f for f in funcs if re.search(only, f["name"])]
        print("fuzz: seed %d, %d mutants per entry point; state types: %s" % (
            self.seed, self.n, ", ".join(sorted(self.state_types))))
        print("fuzz: %d types, %d state-taking functions (%d possible transition functions)" % (
            len(types), len(funcs), sum(1 for f in funcs if f["trans"])))
        # profiles first: every other state is built from them
        order = sorted(types, key=lambda t: (t[0] != "profile", t[0]))
        for t in order:
            if t[0] == "profile":
                self.pools["clm.profile"] = self.type_seeds("profile")
        self.collect_seeds(funcs)
        if self.verbose:
            print("  %6.2f s  seeds" % (time.time() - self.t_last))
        self.t_last = time.time()
        for t in order:
            self.fuzz_type(t[0], t[3], t[2])
        self.collect_seeds(funcs)
        if self.verbose:
            print("  %6.2f s  seeds" % (time.time() - self.t_last))
        self.t_last = time.time()
        # one entry point per C function and path; two workers share them
        groups = {}
        for f in funcs:
            groups.setdefault(f["src"], []).append(f)
        jobs = []
        for src in sorted(groups):
            jobs.append(("direct", groups[src]))
            trans = [f for f in groups[src] if f["trans"]]
            if trans:
                jobs.append(("aggregate", trans))
        self.run_jobs(jobs)

    def run_jobs(self, jobs):
        """Run the jobs in self.workers processes, each on its own connection."""
        procs = []
        for w in range(self.workers):
            mine = jobs[w::self.workers]
            r, wfd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                code = 0
                try:
                    self.s = Server(self.s.dsn)
                    self.s.execute("SET statement_timeout = '60s'")
                    self.s.execute(RUNNER)
                    self.rng = random.Random(self.seed * 100 + w)
                    self.mut = Mutator(self.rng)
                    self.report = []
                    self.failures = []
                    for kind, group in mine:
                        if kind == "direct":
                            self.fuzz_direct(group)
                        else:
                            self.fuzz_aggregate(group)
                    out = (self.report, self.failures)
                except Exception as e:
                    out = ([], ["worker %d: %r" % (w, e)])
                    code = 1
                with os.fdopen(wfd, "wb") as fh:
                    pickle.dump(out, fh)
                os._exit(code)
            os.close(wfd)
            procs.append((pid, r))
        for pid, r in procs:
            with os.fdopen(r, "rb") as fh:
                data = fh.read()
            os.waitpid(pid, 0)
            if data:
                rep, fails = pickle.loads(data)
            else:
                rep, fails = [], ["a worker died"]
            self.report += rep
            self.failures += fails
        # the server must still be the one we started with
        if not self.s.alive():
            self.failures.append("the server restarted")


def group_name(group):
    """clm.name(args) of a function's signatures ("+N" for the others)."""
    f = group[0]
    more = " +%d signatures" % (len(group) - 1) if len(group) > 1 else ""
    return "clm.%s(%s)%s" % (f["name"], ", ".join(f["argtypes"]), more)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="")
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--mutants", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--only", default=None, help="regex of function names")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    t0 = time.time()
    server = Server(a.dsn)
    server.execute("SET statement_timeout = '60s'")
    fz = Fuzzer(server, a.seed, a.mutants, a.batch, a.verbose)
    fz.seed = a.seed
    fz.workers = a.workers
    fz.run(a.only)
    total = 0
    crashes = 0
    print()
    print("%-100s %8s  %s" % ("entry point", "mutants", "outcomes (ok = accepted, else SQLSTATE)"))
    for name, n, counts in fz.report:
        total += n
        crashes += counts.get("CRASH", 0)
        print("%-100s %8d  %s" % (name, n, " ".join(
            "%s=%d" % (k, v) for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))))
    print()
    for name, n, bad in fz.round_trips:
        print("round trip %-40s %6d accepted, %d differ" % (name, n, bad))
    all_states = {}
    for _, _, counts in fz.report:
        for k, v in counts.items():
            all_states[k] = all_states.get(k, 0) + v
    print()
    print("fuzz: %d entry points, %d calls in %.0f s; outcomes: %s; crashes: %d" % (
        len(fz.report), total, time.time() - t0,
        " ".join("%s=%d" % kv for kv in sorted(all_states.items(), key=lambda kv: -kv[1])),
        crashes))
    for f in fz.failures[:30]:
        print("FAIL: %s" % (f if len(f) <= 600 else f[:600] + "..."))
    if len(fz.failures) > 30:
        print("FAIL: ... and %d more" % (len(fz.failures) - 30))
    short = [name for name, n, _ in fz.report if n < a.mutants]
    for name in short:
        print("FAIL: %s: fewer than %d mutants" % (name, a.mutants))
    # the tests: one per entry point (no crash), one per round trip, no failure
    passed = sum(1 for _, _, c in fz.report if "CRASH" not in c)
    failed = sum(1 for _, _, c in fz.report if "CRASH" in c)
    passed += sum(1 for _, _, bad in fz.round_trips if bad == 0)
    failed += sum(1 for _, _, bad in fz.round_trips if bad != 0)
    other = len([f for f in fz.failures if not f.startswith("crash")]) + len(short)
    failed += other
    if "XX000" in all_states:
        print("FAIL: %d calls raised XX000 (internal error)" % all_states["XX000"])
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
