-- Cohort retention (src/retention.c; definitions in docs/journey.md).
-- State and result: bigint[] (a real type with text and binary I/O, so that
-- partial aggregation can move it between nodes); read it with
-- clm.retention_rows.

CREATE FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text) IS 'aggregate support: add one customer to a retention value (transition function of clm.retention)';
CREATE FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, text)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, text) IS 'aggregate support: add one customer to a retention value (transition function of clm.retention)';
CREATE FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, integer[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, integer[]) IS 'aggregate support: add one customer to a retention value (transition function of clm.retention)';
CREATE FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, text, integer[], integer)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_trans(bigint[], @extschema@.profile, date, date, text, text, integer[], integer) IS 'aggregate support: add one customer to a retention value (transition function of clm.retention)';
CREATE FUNCTION @extschema@.retention_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_combine(bigint[], bigint[]) IS 'aggregate support: add two retention values with the same parameters (combine function of clm.retention)';
CREATE FUNCTION @extschema@.retention_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_retention_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_final(bigint[]) IS 'aggregate support: the retention value (final function of clm.retention)';

CREATE AGGREGATE @extschema@.retention(p @extschema@.profile, cohorts_from date, as_of date, period text) (
    SFUNC = @extschema@.retention_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.retention_combine,
    FINALFUNC = @extschema@.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.retention(@extschema@.profile, date, date, text) IS 'cohort retention, exact period: cohorts by period (day, week from Monday, month) of first purchase from cohorts_from to as_of; customers who bought in each offset period, and their net spend; expand with clm.retention_rows';
CREATE AGGREGATE @extschema@.retention(p @extschema@.profile, cohorts_from date, as_of date, period text, mode text) (
    SFUNC = @extschema@.retention_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.retention_combine,
    FINALFUNC = @extschema@.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.retention(@extschema@.profile, date, date, text, text) IS 'cohort retention with mode ''exact'' (bought in the offset period) or ''on_or_after'' (bought in the offset period or later, up to as_of); expand with clm.retention_rows';
CREATE AGGREGATE @extschema@.retention(p @extschema@.profile, cohorts_from date, as_of date, period text, brackets integer[]) (
    SFUNC = @extschema@.retention_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.retention_combine,
    FINALFUNC = @extschema@.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.retention(@extschema@.profile, date, date, text, integer[]) IS 'cohort retention in custom brackets: bounds b0 < b1 < ... < bm give the brackets of offsets [b(j), b(j+1) - 1]; expand with clm.retention_rows';
CREATE AGGREGATE @extschema@.retention(p @extschema@.profile, cohorts_from date, as_of date, period text,
    mode text, brackets integer[], week_start integer) (
    SFUNC = @extschema@.retention_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.retention_combine,
    FINALFUNC = @extschema@.retention_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.retention(@extschema@.profile, date, date, text, text, integer[], integer) IS 'cohort retention with every option: mode (''exact'' or ''on_or_after''; ignored when brackets is not NULL), brackets, weeks starting on week_start (1 = Monday ... 7 = Sunday); expand with clm.retention_rows';

CREATE FUNCTION @extschema@.retention_rows(retention bigint[],
    OUT cohort date, OUT period_offset integer, OUT period_offset_end integer,
    OUT cohort_customers bigint, OUT retained_customers bigint,
    OUT retention_rate double precision, OUT revenue numeric)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_retention_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION @extschema@.retention_rows(bigint[]) IS 'rows of a clm.retention value: cohort (period start; NULL = all cohorts complete for the offset), period_offset, period_offset_end (NULL = open-ended, on_or_after), cohort_customers, retained_customers, retention_rate, revenue (net spend, currency units); only cells whose last period ended on or before as_of';
