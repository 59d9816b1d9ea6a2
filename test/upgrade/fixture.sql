-- test/upgrade/fixture.sql: helpers (in pg_temp) shared by make_fixture (run once against a
-- clm 0.1 build, output committed under fixtures/) and v01_values.sh (run
-- against the current build).
--
-- raw(value) and <type>_of(bytea): the bytes of a value as stored on disk
-- (after the varlena header) and back, so that values written by 0.1's own
-- code can be kept as hex and read by a later version exactly as it would
-- read them from a table.  byteasend returns its (detoasted) argument
-- unchanged.  (Superuser: LANGUAGE internal.)
CREATE FUNCTION pg_temp.raw(clm.profile) RETURNS bytea LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.raw(clm.model) RETURNS bytea LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.raw(clm.rfm_breakpoints) RETURNS bytea LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.raw(clm.rfm_state) RETURNS bytea LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.raw(clm.model_histogram) RETURNS bytea LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.profile_of(bytea) RETURNS clm.profile LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.model_of(bytea) RETURNS clm.model LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.rfm_breakpoints_of(bytea) RETURNS clm.rfm_breakpoints LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.rfm_state_of(bytea) RETURNS clm.rfm_state LANGUAGE internal STRICT AS 'byteasend';
CREATE FUNCTION pg_temp.model_histogram_of(bytea) RETURNS clm.model_histogram LANGUAGE internal STRICT AS 'byteasend';

-- what the functions answer for a stored value (as_of fixed)
CREATE FUNCTION pg_temp.profile_answers(p clm.profile) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', clm.summary(p, '2025-01-01')::text, clm.stage(p, '2025-01-01')::text,
                     clm.event_count(p), clm.first_event(p), clm.last_event(p),
                     (SELECT string_agg(c::text, ';' ORDER BY c.channel) FROM clm.profile_channels(p) c),
                     (SELECT string_agg(d::text, ';' ORDER BY d.day) FROM clm.profile_days(p) d),
                     clm.btyd_inputs(p, '2025-01-01', 'week')::text)
$$;
-- (PL/pgSQL, each kind's call in a branch of its own: in a CASE of a SQL
-- function, a call of an arm not taken may be evaluated at plan time where
-- the model is a constant, PostgreSQL 19's plans of SQL functions included,
-- and expected_spend refuses a model of another kind)
CREATE FUNCTION pg_temp.model_answers(m clm.model) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k text := (clm.model_info(m)).kind;
    extra text;
BEGIN
    IF k IN ('bgnbd', 'mbgnbd', 'paretonbd') THEN
        extra := concat_ws(' ', round(clm.p_alive(m, 3, 20, 52)::numeric, 6), round(clm.expected_purchases(m, 26, 3, 20, 52)::numeric, 6));
    ELSIF k = 'gg' THEN
        extra := round(clm.expected_spend(m, 3, 45.5)::numeric, 6)::text;
    ELSIF k = 'bgbb' THEN
        extra := round(clm.p_alive(m, 3, 4, 6)::numeric, 6)::text;
    ELSIF k = 'sbg' THEN
        extra := round(clm.survival(m, 5)::numeric, 6)::text;
    END IF;
    RETURN concat_ws(' | ', clm.model_info(m)::text, extra);
END
$$;
CREATE FUNCTION pg_temp.bp_answers(bp clm.rfm_breakpoints) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', (SELECT string_agg(c::text, ';' ORDER BY c.score) FROM clm.rfm_cut_points(bp) c),
                     clm.rfm_score(40, 3, 120.5, bp)::text, clm.rfm_score(400, 1, 10, bp)::text)
$$;
CREATE FUNCTION pg_temp.state_answers(s clm.rfm_state) RETURNS text LANGUAGE sql AS $$
    SELECT clm.rfm_state_final(s)::text
$$;
CREATE FUNCTION pg_temp.hist_answers(h clm.model_histogram) RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', h::text, round(clm.model_parameter(clm.bgnbd_fit_final(h), 'r')::numeric, 4))
$$;

-- what the checks of the fixtures compare for a value (vNN_values.sh,
-- fixture_check.bash): its text form, the md5 of its binary form and the
-- answers of the functions over it
CREATE TYPE pg_temp.forms AS (txt text, send_md5 text, answers text);
CREATE FUNCTION pg_temp.forms(v clm.profile) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(clm.profile_send(v)), pg_temp.profile_answers(v))::pg_temp.forms
$$;
CREATE FUNCTION pg_temp.forms(v clm.model) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(clm.model_send(v)), pg_temp.model_answers(v))::pg_temp.forms
$$;
CREATE FUNCTION pg_temp.forms(v clm.rfm_breakpoints) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(clm.rfm_breakpoints_send(v)), pg_temp.bp_answers(v))::pg_temp.forms
$$;
CREATE FUNCTION pg_temp.forms(v clm.rfm_state) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(clm.rfm_state_send(v)), pg_temp.state_answers(v))::pg_temp.forms
$$;
CREATE FUNCTION pg_temp.forms(v clm.model_histogram) RETURNS pg_temp.forms LANGUAGE sql AS $$
    SELECT ROW(v::text, md5(clm.model_histogram_send(v)), pg_temp.hist_answers(v))::pg_temp.forms
$$;
