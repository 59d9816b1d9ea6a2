-- Feedback: NPS and CSAT aggregates (src/feedback.c; docs/rfm.md).

CREATE TYPE @extschema@.nps_result AS (
    nps double precision,
    margin_of_error_95 double precision,
    respondents bigint,
    promoters bigint,
    passives bigint,
    detractors bigint
);
COMMENT ON TYPE @extschema@.nps_result IS 'Net Promoter Score of a set of answers (result of clm.nps)';
COMMENT ON COLUMN @extschema@.nps_result.nps IS 'percent promoters (9-10) minus percent detractors (0-6), from -100 to 100';
COMMENT ON COLUMN @extschema@.nps_result.margin_of_error_95 IS 'half-width of the 95% confidence interval of nps, in points: 1.96 * 100 * sqrt((p + d - (p - d)^2) / n)';
COMMENT ON COLUMN @extschema@.nps_result.respondents IS 'number of answers (NULLs ignored)';
COMMENT ON COLUMN @extschema@.nps_result.promoters IS 'answers of 9 or 10';
COMMENT ON COLUMN @extschema@.nps_result.passives IS 'answers of 7 or 8';
COMMENT ON COLUMN @extschema@.nps_result.detractors IS 'answers of 0 to 6';

CREATE TYPE @extschema@.csat_result AS (
    csat double precision,
    margin_of_error_95 double precision,
    respondents bigint,
    satisfied bigint
);
COMMENT ON TYPE @extschema@.csat_result IS 'customer satisfaction score of a set of answers (result of clm.csat)';
COMMENT ON COLUMN @extschema@.csat_result.csat IS 'percent of answers that are 4 or 5 on the 1-5 scale';
COMMENT ON COLUMN @extschema@.csat_result.margin_of_error_95 IS 'half-width of the 95% confidence interval of csat, in points: 1.96 * 100 * sqrt(q (1 - q) / n)';
COMMENT ON COLUMN @extschema@.csat_result.respondents IS 'number of answers (NULLs ignored)';
COMMENT ON COLUMN @extschema@.csat_result.satisfied IS 'answers of 4 or 5';

CREATE FUNCTION @extschema@.nps_trans(bigint[], integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_nps_trans' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nps_trans(bigint[], integer) IS 'aggregate support: count one NPS answer (0..10) in the 11 slots of the state (transition function of clm.nps)';
CREATE FUNCTION @extschema@.csat_trans(bigint[], integer) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_csat_trans' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.csat_trans(bigint[], integer) IS 'aggregate support: count one CSAT answer (1..5) in the 5 slots of the state (transition function of clm.csat)';
CREATE FUNCTION @extschema@.feedback_combine(bigint[], bigint[]) RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_feedback_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.feedback_combine(bigint[], bigint[]) IS 'aggregate support: add two count states (combine function of clm.nps and clm.csat)';
CREATE FUNCTION @extschema@.nps_final(bigint[]) RETURNS @extschema@.nps_result
    AS 'MODULE_PATHNAME', 'clm_nps_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.nps_final(bigint[]) IS 'aggregate support: NPS and its margin of error from the answer counts (final function of clm.nps)';
CREATE FUNCTION @extschema@.csat_final(bigint[]) RETURNS @extschema@.csat_result
    AS 'MODULE_PATHNAME', 'clm_csat_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.csat_final(bigint[]) IS 'aggregate support: CSAT and its margin of error from the answer counts (final function of clm.csat)';

CREATE AGGREGATE @extschema@.nps(score integer) (
    SFUNC = @extschema@.nps_trans,
    STYPE = bigint[],
    INITCOND = '{0,0,0,0,0,0,0,0,0,0,0}',
    COMBINEFUNC = @extschema@.feedback_combine,
    FINALFUNC = @extschema@.nps_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.nps(integer) IS 'Net Promoter Score of answers 0..10: percent promoters (9-10) minus percent detractors (0-6), with its 95% margin of error and the counts; NULL answers ignored; NULL if there is none; an answer outside 0..10 is an error (22003)';

CREATE AGGREGATE @extschema@.csat(score integer) (
    SFUNC = @extschema@.csat_trans,
    STYPE = bigint[],
    INITCOND = '{0,0,0,0,0}',
    COMBINEFUNC = @extschema@.feedback_combine,
    FINALFUNC = @extschema@.csat_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.csat(integer) IS 'customer satisfaction score of answers 1..5: percent of answers that are 4 or 5, with its 95% margin of error and the counts; NULL answers ignored; NULL if there is none; an answer outside 1..5 is an error (22003)';
