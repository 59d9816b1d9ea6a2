-- Lifecycle counts per period: new, returning, resurrecting, dormant and the
-- pulse ratio (src/lifecycle.c; definitions in docs/journey.md).
-- State and result: bigint[] (a real type with text and binary I/O, so that
-- partial aggregation can move it between nodes); read it with
-- clm.lifecycle_rows.

CREATE FUNCTION @extschema@.lifecycle_trans(bigint[], @extschema@.profile, date, date, text)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_lifecycle_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_trans(bigint[], @extschema@.profile, date, date, text) IS 'aggregate support: add one customer to lifecycle counts (transition function of clm.lifecycle)';
CREATE FUNCTION @extschema@.lifecycle_trans(bigint[], @extschema@.profile, date, date, text, integer, boolean, integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_lifecycle_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_trans(bigint[], @extschema@.profile, date, date, text, integer, boolean, integer) IS 'aggregate support: add one customer to lifecycle counts (transition function of clm.lifecycle)';
CREATE FUNCTION @extschema@.lifecycle_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_lifecycle_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_combine(bigint[], bigint[]) IS 'aggregate support: add two lifecycle count values with the same parameters (combine function of clm.lifecycle)';
CREATE FUNCTION @extschema@.lifecycle_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_lifecycle_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lifecycle_final(bigint[]) IS 'aggregate support: the lifecycle counts (final function of clm.lifecycle)';

CREATE AGGREGATE @extschema@.lifecycle(p @extschema@.profile, "from" date, "to" date, period text) (
    SFUNC = @extschema@.lifecycle_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.lifecycle_combine,
    FINALFUNC = @extschema@.lifecycle_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.lifecycle(@extschema@.profile, date, date, text) IS 'new, returning, resurrecting and dormant customers per period (day, week from Monday, month) of ["from", "to"], any event = active, dormant after 1 inactive period; expand with clm.lifecycle_rows';
CREATE AGGREGATE @extschema@.lifecycle(p @extschema@.profile, "from" date, "to" date, period text,
    dormant_after integer, purchases_only boolean, week_start integer) (
    SFUNC = @extschema@.lifecycle_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.lifecycle_combine,
    FINALFUNC = @extschema@.lifecycle_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.lifecycle(@extschema@.profile, date, date, text, integer, boolean, integer) IS 'new, returning, resurrecting and dormant customers per period of ["from", "to"]: dormant counted once after dormant_after inactive periods, purchases only or any event, weeks starting on week_start (1 = Monday ... 7 = Sunday); expand with clm.lifecycle_rows';

CREATE FUNCTION @extschema@.lifecycle_rows(counts bigint[],
    OUT period_start date, OUT new_customers bigint, OUT returning_customers bigint,
    OUT resurrecting_customers bigint, OUT dormant_customers bigint,
    OUT active_customers bigint, OUT pulse double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_lifecycle_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 52;
COMMENT ON FUNCTION @extschema@.lifecycle_rows(bigint[]) IS 'one row per period of a clm.lifecycle value: period_start, new, returning, resurrecting, dormant and active customers, pulse = (new + resurrecting) / dormant (NULL when no customer became dormant)';
