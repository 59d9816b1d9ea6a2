
-- The aggregates clm.stage_transitions and clm.stage_counts with the
-- population gap quoted ('30') or NULL, as 0.1's README wrote them
-- (clm.stage_transitions(p, "from", "to", population_gap_days)).  0.2's
-- forms taking a clm.stage_rules value made such a literal ambiguous (42725,
-- "is not unique"), as for clm.stage (63_stage_quoted.sql); these forms take
-- the gap as text, which a literal of unknown type prefers, and the C
-- transition functions read it as a double precision (a number; anything
-- else is 22P02, and NULL 22004, as in 0.1).  The state, combine and final
-- functions are those of the other forms.
-- New in 0.3: src/upgrade/0.2--0.3/78_fixes_stage_aggregates.sql is a link to
-- this file.

CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, text)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, text) IS 'aggregate support: add one customer to a transition matrix, the population gap quoted (transition function of clm.stage_transitions)';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date, population_gap_days text) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, text) IS 'clm.stage_transitions with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';

CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, text)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, text) IS 'aggregate support: add one customer''s stage changes over the range, the population gap quoted (transition function of clm.stage_counts)';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date, population_gap_days text) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, text) IS 'clm.stage_counts with the population gap quoted (''30''), as 0.1 read it: the text is read as a double precision';
