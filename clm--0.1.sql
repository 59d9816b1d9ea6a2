-- clm 0.1 install script, as released (frozen: never edit; changes go into upgrade scripts).
-- complain if the script is sourced in psql rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION clm" to load this file. \quit

COMMENT ON SCHEMA @extschema@ IS 'clm: customer lifecycle analytics (profiles, RFM, stages, CLV and churn models)';
-- The clm.profile type: one customer's mergeable history (src/profile*.c).

CREATE TYPE @extschema@.profile;

CREATE FUNCTION @extschema@.profile_in(cstring) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.profile_out(@extschema@.profile) RETURNS cstring
    AS 'MODULE_PATHNAME', 'clm_profile_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.profile_recv(internal) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.profile_send(@extschema@.profile) RETURNS bytea
    AS 'MODULE_PATHNAME', 'clm_profile_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.profile (
    INPUT = @extschema@.profile_in,
    OUTPUT = @extschema@.profile_out,
    RECEIVE = @extschema@.profile_recv,
    SEND = @extschema@.profile_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);

COMMENT ON TYPE @extschema@.profile IS 'one customer''s mergeable history: distinct active days with orders and net spend, channels, first and last event (build with the clm.profile aggregate)';
COMMENT ON FUNCTION @extschema@.profile_in(cstring) IS 'text input of clm.profile (the JSON form written by profile_out), fully validated';
COMMENT ON FUNCTION @extschema@.profile_out(@extschema@.profile) IS 'text output of clm.profile as JSON; instants in UTC, spends as exact decimals';
COMMENT ON FUNCTION @extschema@.profile_recv(internal) IS 'binary input of clm.profile, fully validated';
COMMENT ON FUNCTION @extschema@.profile_send(@extschema@.profile) IS 'binary output of clm.profile';

-- Aggregate support.  The state type is clm.profile itself (not internal):
-- SSPACE tells the planner a state's typical size (a customer with about
-- ten active days and a few channels), so that it chooses sorted grouping
-- when hashing every customer would not fit in work_mem.
-- the transition function grows the state in place, the combine function
-- merges two states, the final function returns the canonical form.
CREATE FUNCTION @extschema@.profile_combine(@extschema@.profile, @extschema@.profile) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_combine(@extschema@.profile, @extschema@.profile) IS 'aggregate support: merge two profile states (combine function); use clm.profile_merge in queries';
CREATE FUNCTION @extschema@.profile_final(@extschema@.profile) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_final' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_final(@extschema@.profile) IS 'aggregate support: the canonical form of a profile state (final function)';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount numeric) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, numeric) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are calendar days in the session time zone at aggregation time.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, numeric, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount numeric, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, numeric, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are calendar days in the session time zone at aggregation time. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount float8) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, float8) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are calendar days in the session time zone at aggregation time.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamptz, float8, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamptz, amount float8, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamptz, float8, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are calendar days in the session time zone at aggregation time. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, numeric) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, numeric) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamp, amount numeric) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamp, numeric) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are the calendar days of the timestamps as written.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, numeric, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, numeric, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamp, amount numeric, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamp, numeric, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are the calendar days of the timestamps as written. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, float8) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, float8) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamp, amount float8) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamp, float8) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are the calendar days of the timestamps as written.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, float8, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, timestamp, float8, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at timestamp, amount float8, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(timestamp, float8, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Days are the calendar days of the timestamps as written. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, date, numeric) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, date, numeric) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at date, amount numeric) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(date, numeric) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, date, numeric, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, date, numeric, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at date, amount numeric, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(date, numeric, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, date, float8) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, date, float8) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at date, amount float8) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(date, float8) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped.';
CREATE FUNCTION @extschema@.profile_trans(@extschema@.profile, date, float8, text) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_trans(@extschema@.profile, date, float8, text) IS 'aggregate support: add one event to a profile state (transition function of clm.profile)';
CREATE AGGREGATE @extschema@.profile(occurred_at date, amount float8, channel text) (
    SFUNC = @extschema@.profile_trans,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile(date, float8, text) IS 'profile of one customer''s events: NULL amount = activity, amount >= 0 = purchase, amount < 0 = refund; NULL occurred_at skipped. Channels: up to 16 per customer, the names that sort first; the rest counted as other.';

CREATE FUNCTION @extschema@.profile_merge(a @extschema@.profile, b @extschema@.profile) RETURNS @extschema@.profile
    AS 'MODULE_PATHNAME', 'clm_profile_merge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_merge(@extschema@.profile, @extschema@.profile) IS 'profile of the union of two histories: profile(A) merged with profile(B) = profile(A and B); associative and commutative';

CREATE AGGREGATE @extschema@.profile_merge(@extschema@.profile) (
    SFUNC = @extschema@.profile_combine,
    STYPE = @extschema@.profile,
    SSPACE = 512,
    COMBINEFUNC = @extschema@.profile_combine,
    FINALFUNC = @extschema@.profile_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.profile_merge(@extschema@.profile) IS 'merge many profiles into one (identity stitching, incremental refresh); NULLs ignored';

-- Reading a profile as of a date.
CREATE TYPE @extschema@.profile_summary AS (
    first_purchase date,
    last_purchase date,
    orders integer,
    frequency integer,
    transactions bigint,
    recency_days integer,
    tenure_days integer,
    days_since_last_purchase integer,
    monetary numeric,
    total_spend numeric,
    first_seen date,
    last_seen date,
    active_days integer,
    days_since_last_seen integer,
    mean_gap_days double precision,
    as_of date
);
COMMENT ON TYPE @extschema@.profile_summary IS 'one customer''s history as of a date (result of clm.summary)';
COMMENT ON COLUMN @extschema@.profile_summary.first_purchase IS 'first purchase day on or before as_of (NULL if none)';
COMMENT ON COLUMN @extschema@.profile_summary.last_purchase IS 'last purchase day on or before as_of (NULL if none)';
COMMENT ON COLUMN @extschema@.profile_summary.orders IS 'purchase days on or before as_of (orders on the same day count once)';
COMMENT ON COLUMN @extschema@.profile_summary.frequency IS 'repeat purchase days: orders - 1 (0 if none); x in the BTYD literature';
COMMENT ON COLUMN @extschema@.profile_summary.transactions IS 'purchase rows on or before as_of (every order, same-day orders counted separately)';
COMMENT ON COLUMN @extschema@.profile_summary.recency_days IS 'days from first to last purchase day (t_x in days; NULL if no purchase)';
COMMENT ON COLUMN @extschema@.profile_summary.tenure_days IS 'days from first purchase day to as_of (T in days; NULL if no purchase)';
COMMENT ON COLUMN @extschema@.profile_summary.days_since_last_purchase IS 'days from last purchase day to as_of (NULL if no purchase)';
COMMENT ON COLUMN @extschema@.profile_summary.monetary IS 'mean net spend per repeat purchase day, first purchase day excluded (currency units; 0 if frequency = 0)';
COMMENT ON COLUMN @extschema@.profile_summary.total_spend IS 'net spend of all days on or before as_of, refunds subtracted (currency units)';
COMMENT ON COLUMN @extschema@.profile_summary.first_seen IS 'first day with any event on or before as_of (NULL if none)';
COMMENT ON COLUMN @extschema@.profile_summary.last_seen IS 'last day with any event on or before as_of (NULL if none)';
COMMENT ON COLUMN @extschema@.profile_summary.active_days IS 'distinct days with any event on or before as_of';
COMMENT ON COLUMN @extschema@.profile_summary.days_since_last_seen IS 'days from last_seen to as_of (NULL if no event)';
COMMENT ON COLUMN @extschema@.profile_summary.mean_gap_days IS 'mean days between consecutive purchase days: recency_days / frequency (NULL if frequency = 0)';
COMMENT ON COLUMN @extschema@.profile_summary.as_of IS 'the as-of date the row describes';

CREATE FUNCTION @extschema@.summary(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE)
    RETURNS @extschema@.profile_summary
    AS 'MODULE_PATHNAME', 'clm_summary' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.summary(@extschema@.profile, date) IS 'the customer''s summary (frequency, recency, tenure, monetary, ...) counting only days on or before as_of (default: today)';

CREATE FUNCTION @extschema@.profile_days(p @extschema@.profile,
    OUT day date, OUT orders integer, OUT spend numeric)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_profile_days_srf' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.profile_days(@extschema@.profile) IS 'the active days of a profile: day, purchase rows that day, net spend that day (currency units)';

CREATE FUNCTION @extschema@.profile_channels(p @extschema@.profile,
    OUT channel text, OUT events bigint, OUT purchases bigint, OUT last_day date)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_profile_channels_srf' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.profile_channels(@extschema@.profile) IS 'per-channel event and purchase counts and last day; a row with channel NULL sums the channels past the cap of 16';

CREATE FUNCTION @extschema@.first_event(p @extschema@.profile) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'clm_profile_first_event' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.first_event(@extschema@.profile) IS 'the earliest occurred_at aggregated into the profile';
CREATE FUNCTION @extschema@.last_event(p @extschema@.profile) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'clm_profile_last_event' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.last_event(@extschema@.profile) IS 'the latest occurred_at aggregated into the profile';
CREATE FUNCTION @extschema@.event_count(p @extschema@.profile) RETURNS bigint
    AS 'MODULE_PATHNAME', 'clm_profile_event_count' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.event_count(@extschema@.profile) IS 'number of event rows aggregated into the profile (all rows with a non-NULL occurred_at)';

CREATE FUNCTION @extschema@.profile_eq(@extschema@.profile, @extschema@.profile) RETURNS boolean
    AS 'MODULE_PATHNAME', 'clm_profile_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_eq(@extschema@.profile, @extschema@.profile) IS 'true if two profiles hold the same history';
CREATE FUNCTION @extschema@.profile_ne(@extschema@.profile, @extschema@.profile) RETURNS boolean
    AS 'MODULE_PATHNAME', 'clm_profile_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.profile_ne(@extschema@.profile, @extschema@.profile) IS 'true if two profiles hold different histories';
CREATE OPERATOR @extschema@.= (
    LEFTARG = @extschema@.profile, RIGHTARG = @extschema@.profile,
    FUNCTION = @extschema@.profile_eq, COMMUTATOR = OPERATOR(@extschema@.=),
    NEGATOR = OPERATOR(@extschema@.<>), RESTRICT = eqsel, JOIN = eqjoinsel
);
COMMENT ON OPERATOR @extschema@.= (@extschema@.profile, @extschema@.profile) IS 'profiles hold the same history';
CREATE OPERATOR @extschema@.<> (
    LEFTARG = @extschema@.profile, RIGHTARG = @extschema@.profile,
    FUNCTION = @extschema@.profile_ne, COMMUTATOR = OPERATOR(@extschema@.<>),
    NEGATOR = OPERATOR(@extschema@.=), RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR @extschema@.<> (@extschema@.profile, @extschema@.profile) IS 'profiles hold different histories';

-- The inputs of the buy-till-you-die models (BG/NBD, Pareto/NBD, Gamma-Gamma ...).
CREATE TYPE @extschema@.btyd_inputs AS (
    x integer,
    t_x double precision,
    t double precision,
    mean_spend numeric
);
COMMENT ON TYPE @extschema@.btyd_inputs IS 'buy-till-you-die model inputs of one customer at a calibration end (result of clm.btyd_inputs)';
COMMENT ON COLUMN @extschema@.btyd_inputs.x IS 'repeat purchase days: purchase days minus 1 (same-day orders merged, the first purchase not counted)';
COMMENT ON COLUMN @extschema@.btyd_inputs.t_x IS 'recency: time from the first to the last purchase day, in the chosen unit (0 if x = 0)';
COMMENT ON COLUMN @extschema@.btyd_inputs.t IS 'age T: time from the first purchase day to the calibration end, in the chosen unit';
COMMENT ON COLUMN @extschema@.btyd_inputs.mean_spend IS 'mean net spend of the repeat purchase days, first purchase excluded (currency units; 0 if x = 0)';

CREATE FUNCTION @extschema@.btyd_inputs(p @extschema@.profile, calibration_end date, unit text DEFAULT 'week')
    RETURNS @extschema@.btyd_inputs
    AS 'MODULE_PATHNAME', 'clm_btyd_inputs' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.btyd_inputs(@extschema@.profile, date, text) IS 'x, t_x, T (unit day, week or month = 365.25/12 days) and mean repeat spend at calibration_end; NULL if no purchase by then';

-- clm.generate_events: a deterministic sample event table (src/generate.c).

-- planner support: row estimate = customers * 15
CREATE FUNCTION @extschema@.generate_events_support(pg_catalog.internal)
RETURNS pg_catalog.internal
AS 'MODULE_PATHNAME', 'clm_generate_events_support'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.generate_events_support(pg_catalog.internal) IS
'planner support for clm.generate_events: estimates customers * 15 rows';

--
-- IMMUTABLE: the rows depend on the arguments only.  Instants are computed
-- from start_date 00:00 UTC, not in the session time zone, so TimeZone does
-- not change them (only how psql prints them); no other setting is read.
-- A set-returning function is never constant-folded by the planner, so
-- IMMUTABLE cannot turn a call into a cached value.  Not STRICT: a NULL
-- argument is an error, not an empty result.
CREATE FUNCTION @extschema@.generate_events(
	customers        pg_catalog.int8,
	seed             pg_catalog.int8    DEFAULT 42,
	start_date       pg_catalog.date    DEFAULT '2023-01-01',
	end_date         pg_catalog.date    DEFAULT '2025-01-01',
	acquisition_days pg_catalog.int4    DEFAULT 365,
	r                pg_catalog.float8  DEFAULT 0.75,
	alpha            pg_catalog.float8  DEFAULT 2.0,
	a                pg_catalog.float8  DEFAULT 0.8,
	b                pg_catalog.float8  DEFAULT 2.5,
	s                pg_catalog.float8  DEFAULT 0.6,
	beta             pg_catalog.float8  DEFAULT 10.0,
	dropout          pg_catalog.text    DEFAULT 'bgnbd',
	spend_p          pg_catalog.float8  DEFAULT 6.25,
	spend_q          pg_catalog.float8  DEFAULT 3.74,
	spend_gamma      pg_catalog.float8  DEFAULT 15.44,
	visit_ratio      pg_catalog.float8  DEFAULT 1.2,
	prospect_share   pg_catalog.float8  DEFAULT 0.1,
	refund_share     pg_catalog.float8  DEFAULT 0,
	channels         pg_catalog.text[]  DEFAULT '{web,app,store,email}',
	first_customer   pg_catalog.int8    DEFAULT 1)
RETURNS TABLE (
	customer_id      pg_catalog.int8,
	occurred_at      pg_catalog.timestamptz,
	event_type       pg_catalog.text,
	amount           pg_catalog.numeric,
	channel          pg_catalog.text)
AS 'MODULE_PATHNAME', 'clm_generate_events'
LANGUAGE C IMMUTABLE PARALLEL SAFE
COST 1000 ROWS 15000
SUPPORT @extschema@.generate_events_support;

COMMENT ON FUNCTION @extschema@.generate_events(pg_catalog.int8, pg_catalog.int8, pg_catalog.date, pg_catalog.date, pg_catalog.int4, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.float8, pg_catalog.text[], pg_catalog.int8) IS
'deterministic sample events (customer_id, occurred_at, event_type, amount, channel) from a buy-till-you-die simulation: BG/NBD, MBG/NBD or Pareto/NBD purchases (rates per week), Gamma-Gamma spend, visits, prospects, refunds; customers first_customer .. first_customer + customers - 1; instants in UTC; see the README, Sample data';
-- RFM: breakpoints (tie-aware quantiles or fixed thresholds), scores,
-- segment maps as data (src/rfm.c; README "RFM scores and segments").

-- The breakpoints value: n scores, thresholds of scores 2..n for R, F and M.
CREATE TYPE @extschema@.rfm_breakpoints;
CREATE FUNCTION @extschema@.rfm_breakpoints_in(cstring) RETURNS @extschema@.rfm_breakpoints
    AS 'MODULE_PATHNAME', 'clm_rfm_breakpoints_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_breakpoints_out(@extschema@.rfm_breakpoints) RETURNS cstring
    AS 'MODULE_PATHNAME', 'clm_rfm_breakpoints_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_breakpoints_recv(internal) RETURNS @extschema@.rfm_breakpoints
    AS 'MODULE_PATHNAME', 'clm_rfm_breakpoints_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_breakpoints_send(@extschema@.rfm_breakpoints) RETURNS bytea
    AS 'MODULE_PATHNAME', 'clm_rfm_breakpoints_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.rfm_breakpoints (
    INPUT = @extschema@.rfm_breakpoints_in,
    OUTPUT = @extschema@.rfm_breakpoints_out,
    RECEIVE = @extschema@.rfm_breakpoints_recv,
    SEND = @extschema@.rfm_breakpoints_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.rfm_breakpoints IS 'RFM breakpoints for n scores: score s needs R <= r_cut[s] days since the last purchase, F >= f_cut[s] purchase days, M >= m_cut[s] net spend; from the clm.rfm_breakpoints aggregate (tie-aware quantiles, with as_of and population) or clm.rfm_breakpoints_fixed; storable, so scores can use frozen breakpoints';
COMMENT ON FUNCTION @extschema@.rfm_breakpoints_in(cstring) IS 'text input of clm.rfm_breakpoints, e.g. ''n=3 r<=90,30 f>=2,4 m>=100,500'', fully validated';
COMMENT ON FUNCTION @extschema@.rfm_breakpoints_out(@extschema@.rfm_breakpoints) IS 'text output of clm.rfm_breakpoints (round-trips exactly through the input function)';
COMMENT ON FUNCTION @extschema@.rfm_breakpoints_recv(internal) IS 'binary input of clm.rfm_breakpoints (a version byte and the text form), validated like text input';
COMMENT ON FUNCTION @extschema@.rfm_breakpoints_send(@extschema@.rfm_breakpoints) IS 'binary output of clm.rfm_breakpoints (a version byte and the text form)';

-- The aggregate state: exact run-length histograms of R, F and M.
CREATE TYPE @extschema@.rfm_state;
CREATE FUNCTION @extschema@.rfm_state_in(cstring) RETURNS @extschema@.rfm_state
    AS 'MODULE_PATHNAME', 'clm_rfm_state_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_state_out(@extschema@.rfm_state) RETURNS cstring
    AS 'MODULE_PATHNAME', 'clm_rfm_state_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_state_recv(internal) RETURNS @extschema@.rfm_state
    AS 'MODULE_PATHNAME', 'clm_rfm_state_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.rfm_state_send(@extschema@.rfm_state) RETURNS bytea
    AS 'MODULE_PATHNAME', 'clm_rfm_state_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE @extschema@.rfm_state (
    INPUT = @extschema@.rfm_state_in,
    OUTPUT = @extschema@.rfm_state_out,
    RECEIVE = @extschema@.rfm_state_recv,
    SEND = @extschema@.rfm_state_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = double,
    STORAGE = extended
);
COMMENT ON TYPE @extschema@.rfm_state IS 'aggregate state of clm.rfm_breakpoints: exact (value, count) histograms of R, F and M (M in 1/10000 units) and the number of customers without a purchase';
COMMENT ON FUNCTION @extschema@.rfm_state_in(cstring) IS 'text input of clm.rfm_state, fully validated';
COMMENT ON FUNCTION @extschema@.rfm_state_out(@extschema@.rfm_state) IS 'text output of clm.rfm_state (sorted runs; round-trips exactly)';
COMMENT ON FUNCTION @extschema@.rfm_state_recv(internal) IS 'binary input of clm.rfm_state (a version byte and the text form), validated like text input';
COMMENT ON FUNCTION @extschema@.rfm_state_send(@extschema@.rfm_state) IS 'binary output of clm.rfm_state (a version byte and the text form)';

CREATE FUNCTION @extschema@.rfm_state_trans(@extschema@.rfm_state, @extschema@.profile, date)
    RETURNS @extschema@.rfm_state
    AS 'MODULE_PATHNAME', 'clm_rfm_state_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_trans(@extschema@.rfm_state, @extschema@.profile, date) IS 'aggregate support: add one customer''s R, F and M as of a date (transition function of clm.rfm_breakpoints)';
CREATE FUNCTION @extschema@.rfm_state_trans(@extschema@.rfm_state, @extschema@.profile, date, integer)
    RETURNS @extschema@.rfm_state
    AS 'MODULE_PATHNAME', 'clm_rfm_state_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_trans(@extschema@.rfm_state, @extschema@.profile, date, integer) IS 'aggregate support: add one customer''s R, F and M as of a date (transition function of clm.rfm_breakpoints with n)';
CREATE FUNCTION @extschema@.rfm_state_combine(@extschema@.rfm_state, @extschema@.rfm_state)
    RETURNS @extschema@.rfm_state
    AS 'MODULE_PATHNAME', 'clm_rfm_state_combine' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_combine(@extschema@.rfm_state, @extschema@.rfm_state) IS 'aggregate support: merge two histogram states (combine function of clm.rfm_breakpoints)';
CREATE FUNCTION @extschema@.rfm_state_final(@extschema@.rfm_state)
    RETURNS @extschema@.rfm_breakpoints
    AS 'MODULE_PATHNAME', 'clm_rfm_state_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_state_final(@extschema@.rfm_state) IS 'aggregate support: tie-aware quantile breakpoints of a histogram state (final function of clm.rfm_breakpoints)';

CREATE AGGREGATE @extschema@.rfm_breakpoints(p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.rfm_state_trans,
    STYPE = @extschema@.rfm_state,
    COMBINEFUNC = @extschema@.rfm_state_combine,
    FINALFUNC = @extschema@.rfm_state_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rfm_breakpoints(@extschema@.profile, date) IS 'RFM quintile breakpoints (n = 5) of a population of profiles as of a date: tie-aware (score = 1 + floor(5 * share of customers with a strictly worse value)); customers without a purchase on or before as_of are excluded; NULL if none has one';
CREATE AGGREGATE @extschema@.rfm_breakpoints(p @extschema@.profile, as_of date, n integer) (
    SFUNC = @extschema@.rfm_state_trans,
    STYPE = @extschema@.rfm_state,
    COMBINEFUNC = @extschema@.rfm_state_combine,
    FINALFUNC = @extschema@.rfm_state_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.rfm_breakpoints(@extschema@.profile, date, integer) IS 'RFM breakpoints for n scores (2..9) of a population of profiles as of a date: tie-aware (score = 1 + floor(n * share of customers with a strictly worse value)); customers without a purchase on or before as_of are excluded; NULL if none has one';

CREATE FUNCTION @extschema@.rfm_breakpoints_fixed(r_days integer[], f_orders integer[], m_spend numeric[])
    RETURNS @extschema@.rfm_breakpoints
    AS 'MODULE_PATHNAME', 'clm_rfm_breakpoints_fixed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_breakpoints_fixed(integer[], integer[], numeric[]) IS 'business-threshold breakpoints for n scores: the thresholds of scores 2..n (n - 1 each): r_days non-increasing maxima of days since the last purchase, f_orders and m_spend non-decreasing minima of purchase days and net spend';

CREATE FUNCTION @extschema@.rfm_cut_points(bp @extschema@.rfm_breakpoints,
    OUT score integer, OUT r_max_days integer, OUT f_min_orders integer, OUT m_min_spend numeric)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_rfm_cut_points' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.rfm_cut_points(@extschema@.rfm_breakpoints) IS 'the thresholds of breakpoints as rows: for each score 2..n, the most days since the last purchase, the fewest purchase days and the least net spend that reach it';

CREATE TYPE @extschema@.rfm_scores AS (
    r_score integer,
    f_score integer,
    m_score integer,
    rfm_code text,
    days_since_last_purchase integer,
    orders integer,
    total_spend numeric
);
COMMENT ON TYPE @extschema@.rfm_scores IS 'a customer''s RFM scores and the values they score (result of clm.rfm_score)';
COMMENT ON COLUMN @extschema@.rfm_scores.r_score IS 'recency score 1..n: n for the fewest days since the last purchase';
COMMENT ON COLUMN @extschema@.rfm_scores.f_score IS 'frequency score 1..n: n for the most purchase days';
COMMENT ON COLUMN @extschema@.rfm_scores.m_score IS 'monetary score 1..n: n for the highest net spend';
COMMENT ON COLUMN @extschema@.rfm_scores.rfm_code IS 'the three scores as a three-digit code, R then F then M, e.g. ''545''';
COMMENT ON COLUMN @extschema@.rfm_scores.days_since_last_purchase IS 'R: days from the last purchase day to as_of';
COMMENT ON COLUMN @extschema@.rfm_scores.orders IS 'F: purchase days on or before as_of (frequency + 1)';
COMMENT ON COLUMN @extschema@.rfm_scores.total_spend IS 'M: net spend on or before as_of, refunds subtracted (currency units)';

CREATE FUNCTION @extschema@.rfm_score(p @extschema@.profile, bp @extschema@.rfm_breakpoints, as_of date)
    RETURNS @extschema@.rfm_scores
    AS 'MODULE_PATHNAME', 'clm_rfm_score_profile' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 50;
COMMENT ON FUNCTION @extschema@.rfm_score(@extschema@.profile, @extschema@.rfm_breakpoints, date) IS 'the customer''s R, F and M scores as of a date under the given (possibly frozen) breakpoints; NULL if the customer has no purchase on or before as_of';
CREATE FUNCTION @extschema@.rfm_score(days_since_last_purchase integer, orders integer, total_spend numeric, bp @extschema@.rfm_breakpoints)
    RETURNS @extschema@.rfm_scores
    AS 'MODULE_PATHNAME', 'clm_rfm_score_values' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 50;
COMMENT ON FUNCTION @extschema@.rfm_score(integer, integer, numeric, @extschema@.rfm_breakpoints) IS 'R, F and M scores of raw values (days since the last purchase >= 0, purchase days >= 1, net spend with at most 4 decimals) under the given breakpoints';

-- Segment maps as data.
CREATE TABLE @extschema@.rfm_segment_map (
    map_name text NOT NULL,
    rule_id integer NOT NULL,
    segment text NOT NULL,
    priority integer NOT NULL,
    r_min integer NOT NULL DEFAULT 1 CHECK (r_min BETWEEN 1 AND 9),
    r_max integer NOT NULL DEFAULT 9 CHECK (r_max BETWEEN 1 AND 9),
    f_min integer NOT NULL DEFAULT 1 CHECK (f_min BETWEEN 1 AND 9),
    f_max integer NOT NULL DEFAULT 9 CHECK (f_max BETWEEN 1 AND 9),
    m_min integer NOT NULL DEFAULT 1 CHECK (m_min BETWEEN 1 AND 9),
    m_max integer NOT NULL DEFAULT 9 CHECK (m_max BETWEEN 1 AND 9),
    description text,
    preset boolean NOT NULL DEFAULT false,
    PRIMARY KEY (map_name, rule_id)
);
COMMENT ON TABLE @extschema@.rfm_segment_map IS 'named RFM segment maps: each row is a rule giving a segment to the score cells within its ranges; the covering rule with the lowest priority (then lowest rule_id) fires. Presets (preset = true) ship with the extension; add your own maps under new names (your rows are dumped by pg_dump)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.map_name IS 'name of the map the rule belongs to (presets: grid10, rfm11)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.rule_id IS 'identifier of the rule within its map (reported by clm.rfm_segment and clm.rfm_map_check)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.segment IS 'segment name given by the rule; several rules may give the same segment';
COMMENT ON COLUMN @extschema@.rfm_segment_map.priority IS 'lower fires first when several rules cover a cell';
COMMENT ON COLUMN @extschema@.rfm_segment_map.r_min IS 'lowest r_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.r_max IS 'highest r_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.f_min IS 'lowest f_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.f_max IS 'highest f_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.m_min IS 'lowest m_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.m_max IS 'highest m_score covered (inclusive)';
COMMENT ON COLUMN @extschema@.rfm_segment_map.description IS 'what the segment means and what to do about it';
COMMENT ON COLUMN @extschema@.rfm_segment_map.preset IS 'true for the rows shipped with the extension (not dumped by pg_dump; do not edit them, copy them under a new map name)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.rfm_segment_map', 'WHERE NOT preset');
GRANT SELECT ON @extschema@.rfm_segment_map TO PUBLIC;

-- grid10: the classic 10-segment R-by-F grid for n = 5 (M not used); total
-- and disjoint over the 25 (r, f) cells, hence over all 125 (r, f, m) cells.
INSERT INTO @extschema@.rfm_segment_map
    (map_name, rule_id, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max, description, preset) VALUES
('grid10',  1, 'champions',           1, 5, 5, 4, 5, 1, 5, 'bought recently and often: reward them, ask for reviews, early access', true),
('grid10',  2, 'loyal customers',     2, 3, 4, 4, 5, 1, 5, 'buy often, fairly recently: upsell, loyalty programme', true),
('grid10',  3, 'potential loyalists', 3, 4, 5, 2, 3, 1, 5, 'recent, bought more than once: membership, recommendations', true),
('grid10',  4, 'new customers',       4, 5, 5, 1, 1, 1, 5, 'first purchase very recently: onboarding, early success', true),
('grid10',  5, 'promising',           5, 4, 4, 1, 1, 1, 5, 'recent single purchase: build the habit, offers', true),
('grid10',  6, 'need attention',      6, 3, 3, 3, 3, 1, 5, 'middling recency and frequency: limited-time offers, reactivate', true),
('grid10',  7, 'about to sleep',      7, 3, 3, 1, 2, 1, 5, 'middling recency, few purchases: share popular products, discounts', true),
('grid10',  8, 'at risk',             8, 1, 2, 3, 4, 1, 5, 'bought often but long ago: personalised win-back', true),
('grid10',  9, 'can''t lose them',    9, 1, 2, 5, 5, 1, 5, 'were the most frequent buyers, long ago: win back at any cost, talk to them', true),
('grid10', 10, 'hibernating',        10, 1, 2, 1, 2, 1, 5, 'few purchases long ago: offer relevant products, or let go', true);

-- rfm11: 11 segments over R, F and M for n = 5, total and disjoint over all
-- 125 cells by construction (R-by-F grid, with M splitting the frequent
-- buyers into champions / loyal customers and can't lose them / at risk, and
-- the old infrequent buyers split by R into hibernating and lost).
INSERT INTO @extschema@.rfm_segment_map
    (map_name, rule_id, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max, description, preset) VALUES
('rfm11',  1, 'champions',            1, 4, 5, 4, 5, 4, 5, 'recent, frequent, top spenders: reward them, early access, referrals', true),
('rfm11',  2, 'loyal customers',      2, 4, 5, 4, 5, 1, 3, 'recent and frequent, moderate spend: upsell to higher value', true),
('rfm11',  3, 'loyal customers',      3, 3, 3, 4, 5, 1, 5, 'frequent buyers, fairly recent: loyalty programme, keep engaged', true),
('rfm11',  4, 'potential loyalists',  4, 4, 5, 2, 3, 1, 5, 'recent, bought more than once: membership, recommendations', true),
('rfm11',  5, 'new customers',        5, 5, 5, 1, 1, 1, 5, 'first purchase very recently: onboarding', true),
('rfm11',  6, 'promising',            6, 4, 4, 1, 1, 1, 5, 'recent single purchase: build the habit', true),
('rfm11',  7, 'need attention',       7, 3, 3, 3, 3, 1, 5, 'middling recency and frequency: limited-time offers', true),
('rfm11',  8, 'about to sleep',       8, 3, 3, 1, 2, 1, 5, 'middling recency, few purchases: reactivate before they lapse', true),
('rfm11',  9, 'can''t lose them',     9, 1, 2, 4, 5, 4, 5, 'frequent top spenders, long ago: win back at any cost', true),
('rfm11', 10, 'at risk',             10, 1, 2, 4, 5, 1, 3, 'frequent buyers, long ago: personalised win-back', true),
('rfm11', 11, 'at risk',             11, 1, 2, 3, 3, 1, 5, 'repeat buyers, long ago: personalised win-back', true),
('rfm11', 12, 'hibernating',         12, 2, 2, 1, 2, 1, 5, 'few purchases, long ago: relevant offers', true),
('rfm11', 13, 'lost',                13, 1, 1, 1, 2, 1, 5, 'few purchases, longest ago: low-cost reactivation or let go', true);

CREATE TYPE @extschema@.rfm_segment_match AS (
    segment text,
    rule_id integer,
    priority integer
);
COMMENT ON TYPE @extschema@.rfm_segment_match IS 'the segment of a score cell and the rule that gave it (result of clm.rfm_segment)';
COMMENT ON COLUMN @extschema@.rfm_segment_match.segment IS 'segment name';
COMMENT ON COLUMN @extschema@.rfm_segment_match.rule_id IS 'rule_id of the rule that fired (clm.rfm_segment_map)';
COMMENT ON COLUMN @extschema@.rfm_segment_match.priority IS 'priority of the rule that fired';

CREATE FUNCTION @extschema@.rfm_segment(r_score integer, f_score integer, m_score integer, map_name text DEFAULT 'rfm11')
    RETURNS @extschema@.rfm_segment_match
    AS 'MODULE_PATHNAME', 'clm_rfm_segment' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_segment(integer, integer, integer, text) IS 'the segment of an (r, f, m) score cell under a map (default rfm11) and the rule that fired: the covering rule with the lowest priority, then lowest rule_id; NULL if no rule covers the cell. The map is read once per query and call site';

CREATE FUNCTION @extschema@.rfm_segment(s @extschema@.rfm_scores, map_name text DEFAULT 'rfm11')
    RETURNS @extschema@.rfm_segment_match
    AS 'MODULE_PATHNAME', 'clm_rfm_segment_scores' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.rfm_segment(@extschema@.rfm_scores, text) IS 'the segment of a clm.rfm_score result under a map (default rfm11) and the rule that fired';

CREATE FUNCTION @extschema@.rfm_map_cells(map_name text, n integer DEFAULT 5,
    OUT r_score integer, OUT f_score integer, OUT m_score integer,
    OUT segment text, OUT rule_id integer, OUT covering_rules integer)
    RETURNS SETOF record
    LANGUAGE sql STABLE STRICT PARALLEL SAFE ROWS 125
    BEGIN ATOMIC
    WITH cells AS (
        -- one series (not three cross-joined) keeps the row estimate small
        SELECT g / (rfm_map_cells.n * rfm_map_cells.n) + 1 AS r, g / rfm_map_cells.n % rfm_map_cells.n + 1 AS f, g % rfm_map_cells.n + 1 AS m
          FROM pg_catalog.generate_series(0, CASE WHEN rfm_map_cells.n BETWEEN 1 AND 9 THEN rfm_map_cells.n * rfm_map_cells.n * rfm_map_cells.n - 1 ELSE -1 END) AS g
    ), cover AS (
        SELECT c.r, c.f, c.m, x.segment, x.rule_id,
               pg_catalog.row_number() OVER (PARTITION BY c.r, c.f, c.m ORDER BY x.priority, x.rule_id) AS rn,
               pg_catalog.count(*) OVER (PARTITION BY c.r, c.f, c.m) AS cnt
          FROM cells AS c JOIN @extschema@.rfm_segment_map AS x
            ON x.map_name = rfm_map_cells.map_name
           AND c.r BETWEEN x.r_min AND x.r_max AND c.f BETWEEN x.f_min AND x.f_max
           AND c.m BETWEEN x.m_min AND x.m_max
    )
    SELECT c.r, c.f, c.m, v.segment, v.rule_id, COALESCE(v.cnt, 0)::integer
      FROM cells AS c LEFT JOIN cover AS v
        ON v.r = c.r AND v.f = c.f AND v.m = c.m AND v.rn = 1
     ORDER BY 1, 2, 3;
    END;
COMMENT ON FUNCTION @extschema@.rfm_map_cells(text, integer) IS 'every (r, f, m) score cell for n scores (n^3 rows) with the segment and rule that fire under a map (NULL for a gap) and how many rules cover the cell; no rows unless 1 <= n <= 9';

CREATE FUNCTION @extschema@.rfm_map_check(map_name text, n integer DEFAULT 5,
    OUT problem text, OUT r_score integer, OUT f_score integer, OUT m_score integer,
    OUT rule_ids integer[], OUT segments text[], OUT detail text)
    RETURNS SETOF record
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    BEGIN ATOMIC
    WITH cells AS (
        -- one series (not three cross-joined) keeps the row estimate small
        SELECT g / (rfm_map_check.n * rfm_map_check.n) + 1 AS r, g / rfm_map_check.n % rfm_map_check.n + 1 AS f, g % rfm_map_check.n + 1 AS m
          FROM pg_catalog.generate_series(0, CASE WHEN rfm_map_check.n BETWEEN 1 AND 9 THEN rfm_map_check.n * rfm_map_check.n * rfm_map_check.n - 1 ELSE -1 END) AS g
    ), rules AS (
        SELECT s.* FROM @extschema@.rfm_segment_map AS s WHERE s.map_name = rfm_map_check.map_name
    ), cover AS (
        SELECT c.r, c.f, c.m, x.rule_id, x.segment, x.priority,
               pg_catalog.rank() OVER (PARTITION BY c.r, c.f, c.m ORDER BY x.priority) AS rk,
               pg_catalog.row_number() OVER (PARTITION BY c.r, c.f, c.m ORDER BY x.priority, x.rule_id) AS rn
          FROM cells AS c JOIN rules AS x
            ON c.r BETWEEN x.r_min AND x.r_max AND c.f BETWEEN x.f_min AND x.f_max
           AND c.m BETWEEN x.m_min AND x.m_max
    ), problems AS (
        SELECT 1 AS ord, 'gap'::text AS problem, c.r, c.f, c.m,
               NULL::integer[] AS rule_ids, NULL::text[] AS segments,
               'no rule covers this cell'::text AS detail
          FROM cells AS c
         WHERE NOT EXISTS (SELECT 1 FROM cover AS v WHERE v.r = c.r AND v.f = c.f AND v.m = c.m)
        UNION ALL
        SELECT 2, 'overlap', v.r, v.f, v.m,
               pg_catalog.array_agg(v.rule_id ORDER BY v.rule_id),
               pg_catalog.array_agg(v.segment ORDER BY v.rule_id),
               'rules of equal priority ' || pg_catalog.min(v.priority) || ' give different segments; the lowest rule_id fires'
          FROM cover AS v
         WHERE v.rk = 1
         GROUP BY v.r, v.f, v.m
        HAVING pg_catalog.count(DISTINCT v.segment) > 1
        UNION ALL
        SELECT 3, 'dead rule', NULL, NULL, NULL,
               ARRAY[x.rule_id], ARRAY[x.segment],
               CASE WHEN x.r_min > LEAST(x.r_max, rfm_map_check.n) OR x.f_min > LEAST(x.f_max, rfm_map_check.n)
                         OR x.m_min > LEAST(x.m_max, rfm_map_check.n)
                    THEN 'empty range: the rule covers no cell for n = ' || rfm_map_check.n
                    ELSE 'shadowed: every cell it covers is taken by rules '
                         || (SELECT pg_catalog.array_agg(DISTINCT w.rule_id ORDER BY w.rule_id)::text
                               FROM cover AS v JOIN cover AS w
                                 ON w.r = v.r AND w.f = v.f AND w.m = v.m AND w.rn = 1
                              WHERE v.rule_id = x.rule_id)
               END
          FROM rules AS x
         WHERE NOT EXISTS (SELECT 1 FROM cover AS v WHERE v.rule_id = x.rule_id AND v.rn = 1)
    )
    SELECT p.problem, p.r, p.f, p.m, p.rule_ids, p.segments, p.detail
      FROM problems AS p
     ORDER BY p.ord, p.r, p.f, p.m, p.rule_ids;
    END;
COMMENT ON FUNCTION @extschema@.rfm_map_check(text, integer) IS 'validate a segment map over all n^3 score cells: one row per gap (cell no rule covers), per overlap (cell where rules of equal top priority give different segments) and per dead rule (empty range, or shadowed by higher-priority rules); no rows means total, unambiguous and without dead rules';

-- One pass over the profiles: every customer's scores and segment with the
-- breakpoints of the same customers.  State: bigint[] [102, customers, as_of,
-- 4, then (customer_id, R, F, M) a customer] (src/customers.h); read it with
-- clm.customer_rfm_rows.
CREATE FUNCTION @extschema@.customer_rfm_trans(bigint[], bigint, @extschema@.profile, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_rfm_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_rfm_trans(bigint[], bigint, @extschema@.profile, date) IS 'aggregate support: add one customer''s R, F and M as of the day, if it has a purchase (transition function of clm.customer_rfm)';
CREATE FUNCTION @extschema@.customer_rfm_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_rfm_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_rfm_combine(bigint[], bigint[]) IS 'aggregate support: the customers of two partial states (combine function of clm.customer_rfm)';
CREATE FUNCTION @extschema@.customer_rfm_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_rfm_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_rfm_final(bigint[]) IS 'aggregate support: the state trimmed to its customers (final function of clm.customer_rfm)';
CREATE AGGREGATE @extschema@.customer_rfm(customer_id bigint, p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.customer_rfm_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.customer_rfm_combine,
    FINALFUNC = @extschema@.customer_rfm_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.customer_rfm(bigint, @extschema@.profile, date) IS 'the R, F and M of every customer with a purchase on or before the day, 32 bytes a customer, in one pass over the profiles; expand with clm.customer_rfm_rows (scores and segments)';

CREATE FUNCTION @extschema@.customer_rfm_rows(s bigint[], n integer DEFAULT 5, map_name text DEFAULT 'rfm11',
    OUT customer_id bigint, OUT days_since_last_purchase integer, OUT orders integer,
    OUT total_spend numeric, OUT r_score integer, OUT f_score integer, OUT m_score integer,
    OUT rfm_code text, OUT segment text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_rfm_rows' LANGUAGE C STABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.customer_rfm_rows(bigint[], integer, text) IS 'scores (as clm.rfm_score with clm.rfm_breakpoints of the same customers, n scores) and segment (as clm.rfm_segment under map_name; NULL map_name: no segment) of every customer of a clm.customer_rfm value';
CREATE FUNCTION @extschema@.customer_rfm_rows(s bigint[], bp @extschema@.rfm_breakpoints, map_name text DEFAULT 'rfm11',
    OUT customer_id bigint, OUT days_since_last_purchase integer, OUT orders integer,
    OUT total_spend numeric, OUT r_score integer, OUT f_score integer, OUT m_score integer,
    OUT rfm_code text, OUT segment text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_rfm_rows_bp' LANGUAGE C STABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.customer_rfm_rows(bigint[], @extschema@.rfm_breakpoints, text) IS 'scores under the given (e.g. frozen or fixed) breakpoints and segment (as clm.rfm_segment under map_name; NULL map_name: no segment) of every customer of a clm.customer_rfm value';
-- Feedback: NPS and CSAT aggregates (src/feedback.c; README "RFM scores and segments, NPS and CSAT").

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
-- CLV and churn models: histogram state type, model type, fit aggregates,
-- predictions and score metrics (src/models.c, src/core/clm_*.c).

CREATE TYPE @extschema@.model_histogram;

CREATE FUNCTION @extschema@.model_histogram_in(cstring) RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_out(@extschema@.model_histogram) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clm_model_histogram_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_recv(internal) RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_histogram_send(@extschema@.model_histogram) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clm_model_histogram_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.model_histogram (
	INPUT = @extschema@.model_histogram_in,
	OUTPUT = @extschema@.model_histogram_out,
	RECEIVE = @extschema@.model_histogram_recv,
	SEND = @extschema@.model_histogram_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE @extschema@.model_histogram IS 'state of the model fit aggregates: weighted distinct input tuples, text form kind:v1,v2,v3,weight;...';
COMMENT ON FUNCTION @extschema@.model_histogram_in(cstring) IS 'text input of clm.model_histogram';
COMMENT ON FUNCTION @extschema@.model_histogram_out(@extschema@.model_histogram) IS 'text output of clm.model_histogram (sorted, distinct, exact floats)';
COMMENT ON FUNCTION @extschema@.model_histogram_recv(internal) IS 'binary input of clm.model_histogram';
COMMENT ON FUNCTION @extschema@.model_histogram_send(@extschema@.model_histogram) IS 'binary output of clm.model_histogram';

CREATE TYPE @extschema@.model;

CREATE FUNCTION @extschema@.model_in(cstring) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_out(@extschema@.model) RETURNS cstring
	AS 'MODULE_PATHNAME', 'clm_model_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_recv(internal) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.model_send(@extschema@.model) RETURNS bytea
	AS 'MODULE_PATHNAME', 'clm_model_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.model (
	INPUT = @extschema@.model_in,
	OUTPUT = @extschema@.model_out,
	RECEIVE = @extschema@.model_recv,
	SEND = @extschema@.model_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = main
);
COMMENT ON TYPE @extschema@.model IS 'a fitted CLV or churn model: kind, parameters, standard errors, log-likelihood, customers, convergence';
COMMENT ON FUNCTION @extschema@.model_in(cstring) IS 'text input of clm.model: kind name=value ... message=''...''';
COMMENT ON FUNCTION @extschema@.model_out(@extschema@.model) IS 'text output of clm.model (exact floats, round-trips through pg_dump)';
COMMENT ON FUNCTION @extschema@.model_recv(internal) IS 'binary input of clm.model';
COMMENT ON FUNCTION @extschema@.model_send(@extschema@.model) IS 'binary output of clm.model';

CREATE FUNCTION @extschema@.make_model(kind text, parameters float8[]) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_model_make' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.make_model(text, float8[]) IS 'a model of the given kind from known parameters (in the order of clm.model_info().parameter_names)';

CREATE FUNCTION @extschema@.model_info(model @extschema@.model,
	OUT kind text, OUT parameter_names text[], OUT parameters float8[], OUT std_errors float8[],
	OUT log_likelihood float8, OUT n_customers float8, OUT n_distinct integer,
	OUT converged boolean, OUT iterations integer, OUT message text)
	AS 'MODULE_PATHNAME', 'clm_model_info' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_info(@extschema@.model) IS 'the model as a row: kind, parameter names, values and standard errors, log-likelihood, customers, distinct inputs, convergence';

CREATE FUNCTION @extschema@.model_parameter(model @extschema@.model, name text) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_model_parameter' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_parameter(@extschema@.model, text) IS 'one parameter of a model by name (r, alpha, a, b, s, beta, p, q, gamma, delta)';

CREATE FUNCTION @extschema@.model_histogram_merge(@extschema@.model_histogram, @extschema@.model_histogram)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_model_histogram_merge' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.model_histogram_merge(@extschema@.model_histogram, @extschema@.model_histogram) IS 'combine function of the fit aggregates: merge of two histograms';

-- transition functions (not strict: rows with a NULL input are skipped)
CREATE FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_trans(@extschema@.model_histogram, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean, float8)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.scores_trans(@extschema@.model_histogram, float8, boolean)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_scores_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.bgnbd_fit';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.mbgnbd_fit';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.paretonbd_fit';
COMMENT ON FUNCTION @extschema@.gg_fit_trans(@extschema@.model_histogram, float8, float8) IS 'transition function of clm.gg_fit (rows with x = 0 are skipped)';
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8) IS 'transition function of clm.bgbb_fit';
COMMENT ON FUNCTION @extschema@.bgbb_fit_trans(@extschema@.model_histogram, float8, float8, float8, float8) IS 'transition function of clm.bgbb_fit with a weight';
COMMENT ON FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean) IS 'transition function of clm.sbg_fit';
COMMENT ON FUNCTION @extschema@.sbg_fit_trans(@extschema@.model_histogram, float8, boolean, float8) IS 'transition function of clm.sbg_fit with a weight';
COMMENT ON FUNCTION @extschema@.scores_trans(@extschema@.model_histogram, float8, boolean) IS 'transition function of clm.roc_auc and clm.brier_score';

-- final functions
CREATE FUNCTION @extschema@.bgnbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_gg_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.bgbb_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_bgbb_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.sbg_fit_final(@extschema@.model_histogram) RETURNS @extschema@.model
	AS 'MODULE_PATHNAME', 'clm_sbg_fit_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.roc_auc_final(@extschema@.model_histogram) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_roc_auc_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.brier_score_final(@extschema@.model_histogram) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_brier_score_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.bgnbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.mbgnbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_final(@extschema@.model_histogram) IS 'final function of clm.paretonbd_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.gg_fit_final(@extschema@.model_histogram) IS 'final function of clm.gg_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.bgbb_fit_final(@extschema@.model_histogram) IS 'final function of clm.bgbb_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.sbg_fit_final(@extschema@.model_histogram) IS 'final function of clm.sbg_fit: the maximum-likelihood fit';
COMMENT ON FUNCTION @extschema@.roc_auc_final(@extschema@.model_histogram) IS 'final function of clm.roc_auc';
COMMENT ON FUNCTION @extschema@.brier_score_final(@extschema@.model_histogram) IS 'final function of clm.brier_score';

-- fit aggregates
CREATE AGGREGATE @extschema@.bgnbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.bgnbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.mbgnbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.mbgnbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.mbgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(x float8, t_x float8, "T" float8) (
	SFUNC = @extschema@.paretonbd_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.paretonbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(x float8, mean_spend float8) (
	SFUNC = @extschema@.gg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.gg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
-- the same fits reading profiles directly: (profile, calibration_end, unit)
CREATE FUNCTION @extschema@.bgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_bgnbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.mbgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_mbgnbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.paretonbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_paretonbd_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.gg_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text)
	RETURNS @extschema@.model_histogram
	AS 'MODULE_PATHNAME', 'clm_gg_fit_profile_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.bgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.bgnbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.mbgnbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.mbgnbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.paretonbd_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.paretonbd_fit over profiles';
COMMENT ON FUNCTION @extschema@.gg_fit_profile_trans(@extschema@.model_histogram, @extschema@.profile, date, text) IS 'transition function of clm.gg_fit over profiles';
CREATE AGGREGATE @extschema@.bgnbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.bgnbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.mbgnbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.mbgnbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.mbgnbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.paretonbd_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.paretonbd_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.paretonbd_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.gg_fit(p @extschema@.profile, calibration_end date, unit text) (
	SFUNC = @extschema@.gg_fit_profile_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.gg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(@extschema@.profile, date, text) IS 'fit a BG/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit (day, week, month): clm.bgnbd_fit over clm.btyd_inputs, without the intermediate row; customers with no purchase by then are skipped';
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(@extschema@.profile, date, text) IS 'fit an MBG/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(@extschema@.profile, date, text) IS 'fit a Pareto/NBD model to the profiles'' (x, t_x, T) at calibration_end in unit';
COMMENT ON AGGREGATE @extschema@.gg_fit(@extschema@.profile, date, text) IS 'fit a Gamma-Gamma spend model to the profiles'' (x, mean repeat spend) at calibration_end; customers with no repeat purchase or a non-positive mean repeat spend are skipped (unit is not used by the model)';
CREATE AGGREGATE @extschema@.bgbb_fit(x float8, t_x float8, n float8) (
	SFUNC = @extschema@.bgbb_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgbb_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.bgbb_fit(x float8, t_x float8, n float8, weight float8) (
	SFUNC = @extschema@.bgbb_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.bgbb_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sbg_fit(periods float8, churned boolean) (
	SFUNC = @extschema@.sbg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.sbg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.sbg_fit(periods float8, churned boolean, weight float8) (
	SFUNC = @extschema@.sbg_fit_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.sbg_fit_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.roc_auc(probability float8, outcome boolean) (
	SFUNC = @extschema@.scores_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.roc_auc_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.brier_score(probability float8, outcome boolean) (
	SFUNC = @extschema@.scores_trans, STYPE = @extschema@.model_histogram,
	FINALFUNC = @extschema@.brier_score_final, COMBINEFUNC = @extschema@.model_histogram_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.bgnbd_fit(float8, float8, float8) IS 'fit a BG/NBD model (Fader, Hardie and Lee 2005) to (x repeat purchases, recency t_x, age T), any one time unit';
COMMENT ON AGGREGATE @extschema@.mbgnbd_fit(float8, float8, float8) IS 'fit an MBG/NBD model (Batislam et al. 2007) to (x, t_x, T)';
COMMENT ON AGGREGATE @extschema@.paretonbd_fit(float8, float8, float8) IS 'fit a Pareto/NBD model (Schmittlein et al. 1987) to (x, t_x, T)';
COMMENT ON AGGREGATE @extschema@.gg_fit(float8, float8) IS 'fit a Gamma-Gamma spend model (Fader, Hardie and Lee 2005) to (x, mean repeat spend); rows with x = 0 are skipped';
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8) IS 'fit a BG/BB model (Fader, Hardie and Shang 2010) to (x transactions, last opportunity t_x, opportunities n)';
COMMENT ON AGGREGATE @extschema@.bgbb_fit(float8, float8, float8, float8) IS 'fit a BG/BB model to weighted (x, t_x, n) patterns';
COMMENT ON AGGREGATE @extschema@.sbg_fit(float8, boolean) IS 'fit a shifted-beta-geometric churn model (Fader and Hardie 2007) to (periods, churned): churned in period t, or active after t periods';
COMMENT ON AGGREGATE @extschema@.sbg_fit(float8, boolean, float8) IS 'fit an sBG model to weighted (periods, churned) rows';
COMMENT ON AGGREGATE @extschema@.roc_auc(float8, boolean) IS 'ROC AUC of churn probabilities against observed churn (ties count one half)';
COMMENT ON AGGREGATE @extschema@.brier_score(float8, boolean) IS 'Brier score: mean squared difference of probabilities and observed outcomes (0/1)';

-- predictions
CREATE FUNCTION @extschema@.p_alive(model @extschema@.model, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_alive_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_alive(@extschema@.model, float8, float8, float8) IS 'probability that the customer is alive at T (bgnbd, mbgnbd, paretonbd; bgbb: at opportunity n+1 with T = n)';
CREATE FUNCTION @extschema@.churn_probability(model @extschema@.model, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_churn_probability_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.churn_probability(@extschema@.model, float8, float8, float8) IS '1 - p_alive';
CREATE FUNCTION @extschema@.expected_purchases(model @extschema@.model, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_expected_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_purchases(@extschema@.model, float8, float8, float8, float8) IS 'expected purchases in the next t time units (bgbb: t opportunities) given x, t_x, T';
CREATE FUNCTION @extschema@.p_purchases(model @extschema@.model, n integer, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_purchases_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_purchases(@extschema@.model, integer, float8, float8, float8, float8) IS 'probability of exactly n purchases in the next t given x, t_x, T (bgnbd, mbgnbd, paretonbd)';
CREATE FUNCTION @extschema@.p_no_purchase(model @extschema@.model, t float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_p_no_purchase_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.p_no_purchase(@extschema@.model, float8, float8, float8, float8) IS 'probability of no purchase in the next t given x, t_x, T (bgnbd, mbgnbd, paretonbd)';
CREATE FUNCTION @extschema@.expected_spend(model @extschema@.model, x float8, mean_spend float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_expected_spend_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.expected_spend(@extschema@.model, float8, float8) IS 'Gamma-Gamma conditional expected spend per transaction given x repeat purchases of mean value mean_spend';
CREATE FUNCTION @extschema@.clv(model @extschema@.model, horizon integer, discount_rate float8, margin float8,
	spend float8, x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_clv_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.clv(@extschema@.model, integer, float8, float8, float8, float8, float8, float8) IS 'margin * spend * sum over periods k = 1..horizon (one time unit each) of the purchases expected in period k / (1 + discount_rate)^k';
CREATE FUNCTION @extschema@.discounted_expected_transactions(model @extschema@.model, continuous_rate float8,
	x float8, t_x float8, "T" float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_dert_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.discounted_expected_transactions(@extschema@.model, float8, float8, float8, float8) IS 'Pareto/NBD DERT (Fader, Hardie and Lee 2005): expected future transactions discounted continuously at the given rate per time unit, infinite horizon';
CREATE FUNCTION @extschema@.survival(model @extschema@.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_survival_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.survival(@extschema@.model, float8) IS 'sBG: share of a cohort still active after t periods';
CREATE FUNCTION @extschema@.retention_rate(model @extschema@.model, t float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'clm_retention_rate_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.retention_rate(@extschema@.model, float8) IS 'sBG: probability that a customer active in period t-1 renews for period t';
-- Lifecycle stages: stage as of a day, stage history, stage changes and the
-- transition matrix (src/stage.c; definitions in the README, "The customer journey").

CREATE TYPE @extschema@.stage_result AS (
    stage text,
    reason text,
    expected_gap_days double precision,
    days_since_last_purchase integer,
    gap_ratio double precision
);
COMMENT ON TYPE @extschema@.stage_result IS 'a customer''s lifecycle stage as of a day, with the reason (result of clm.stage)';
COMMENT ON COLUMN @extschema@.stage_result.stage IS 'prospect, new, active, at_risk, lapsed, churned or reactivated; NULL if the customer has no event on or before the day';
COMMENT ON COLUMN @extschema@.stage_result.reason IS 'human-readable reason, e.g. ''91 days since last purchase, 3.1 times the expected gap of 29 days''';
COMMENT ON COLUMN @extschema@.stage_result.expected_gap_days IS 'expected days between purchases: the customer''s mean gap shrunk toward the population gap, (prior_strength * population_gap_days + last - first purchase day) / (prior_strength + purchase days - 1); NULL without a purchase';
COMMENT ON COLUMN @extschema@.stage_result.days_since_last_purchase IS 'days from the last purchase day to the day (NULL without a purchase)';
COMMENT ON COLUMN @extschema@.stage_result.gap_ratio IS 'days_since_last_purchase / expected_gap_days (NULL without a purchase)';

CREATE FUNCTION @extschema@.stage(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS @extschema@.stage_result
    AS 'MODULE_PATHNAME', 'clm_stage' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage(@extschema@.profile, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'lifecycle stage of a customer as of a day (prospect, new, active, at_risk, lapsed, churned, reactivated) relative to the customer''s own expected gap between purchases, with the reason; fixed_days => true uses population_gap_days for everyone';

CREATE FUNCTION @extschema@.stage_name(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_stage_only' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_name(@extschema@.profile, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage of clm.stage alone, without the reason (cheaper over every customer); NULL if no event on or before as_of';

CREATE FUNCTION @extschema@.stage_history(p @extschema@.profile, "from" date, "to" date,
    period text DEFAULT 'month',
    week_start integer DEFAULT 1,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT period_start date, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_history' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 12;
COMMENT ON FUNCTION @extschema@.stage_history(@extschema@.profile, date, date, text, integer, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the customer''s stage (as clm.stage) on every period start (day, week starting on week_start, 1 = Monday, or month) from "from" to "to" inclusive';

CREATE FUNCTION @extschema@.stage_changes(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision DEFAULT 30,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT changed_on date, OUT from_stage text, OUT to_stage text, OUT reason text,
    OUT days_in_previous_stage integer, OUT days_dormant integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_changes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8;
COMMENT ON FUNCTION @extschema@.stage_changes(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'every day from "from" to "to" on which the customer''s stage (as clm.stage) differs from the day before: from_stage (NULL before the first event), to_stage, reason, days_in_previous_stage, days_dormant (days in lapsed/churned before leaving them, i.e. before a win-back)';

-- Transition matrix.  State and result: bigint[] (a real type with text and
-- binary I/O, so partial aggregation can move it between nodes), laid out
-- as [1, from, to, 64 counts]; read it with clm.transition_rows.
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'aggregate support: add one customer to a transition matrix (transition function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_combine(bigint[], bigint[]) IS 'aggregate support: add two transition matrices over the same range (combine function of clm.stage_transitions)';
CREATE FUNCTION @extschema@.stage_transitions_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_transitions_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_transitions_final(bigint[]) IS 'aggregate support: the transition matrix (final function of clm.stage_transitions)';

CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date) IS 'transition matrix: customers by (stage on "from", stage on "to"), default stage rules; expand with clm.transition_rows';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date, population_gap_days double precision) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, double precision) IS 'transition matrix: customers by (stage on "from", stage on "to"), given the population gap; expand with clm.transition_rows';
CREATE AGGREGATE @extschema@.stage_transitions(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision, prior_strength double precision, new_days integer,
    active_ratio double precision, at_risk_ratio double precision, lapsed_ratio double precision,
    fixed_days boolean) (
    SFUNC = @extschema@.stage_transitions_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_transitions_combine,
    FINALFUNC = @extschema@.stage_transitions_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_transitions(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'transition matrix: customers by (stage on "from", stage on "to") under the given stage rules; expand with clm.transition_rows';

CREATE FUNCTION @extschema@.transition_rows(matrix bigint[],
    OUT from_stage text, OUT to_stage text, OUT customers bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_transition_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION @extschema@.transition_rows(bigint[]) IS 'the non-zero cells of a clm.stage_transitions matrix: from_stage (NULL = no event yet), to_stage, customers';

-- Stage counts per day.  State: bigint[] [1, from, to, 8 deltas a day]
-- (stage changes, so a customer costs its changes, not the days); final
-- value: [2, from, to, 8 counts a day]; read it with clm.stage_count_rows.
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_trans(bigint[], @extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'aggregate support: add one customer''s stage changes over the range (transition function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_combine(bigint[], bigint[]) IS 'aggregate support: add two stage-count states over the same range (combine function of clm.stage_counts)';
CREATE FUNCTION @extschema@.stage_counts_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_stage_counts_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.stage_counts_final(bigint[]) IS 'aggregate support: the customers per day and stage (final function of clm.stage_counts)';

CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date) IS 'customers in each stage (as clm.stage, default rules) on every day from "from" to "to"; expand with clm.stage_count_rows';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date, population_gap_days double precision) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, double precision) IS 'customers in each stage (as clm.stage, given the population gap) on every day from "from" to "to"; expand with clm.stage_count_rows';
CREATE AGGREGATE @extschema@.stage_counts(p @extschema@.profile, "from" date, "to" date,
    population_gap_days double precision, prior_strength double precision, new_days integer,
    active_ratio double precision, at_risk_ratio double precision, lapsed_ratio double precision,
    fixed_days boolean) (
    SFUNC = @extschema@.stage_counts_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.stage_counts_combine,
    FINALFUNC = @extschema@.stage_counts_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.stage_counts(@extschema@.profile, date, date, double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'customers in each stage (as clm.stage, given rules) on every day from "from" to "to"; expand with clm.stage_count_rows';

CREATE FUNCTION @extschema@.stage_count_rows(counts bigint[],
    OUT day date, OUT stage text, OUT customers bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_stage_count_rows' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 700;
COMMENT ON FUNCTION @extschema@.stage_count_rows(bigint[]) IS 'the rows of a clm.stage_counts value: for every day of its range and each of the 7 stages (prospect, new, active, at_risk, lapsed, churned, reactivated), the customers in that stage that day (0 included)';

-- Population gap for clm.stage: the mean of the customers' mean gaps.
CREATE FUNCTION @extschema@.population_gap_trans(double precision[], @extschema@.profile, date)
    RETURNS double precision[]
    AS 'MODULE_PATHNAME', 'clm_population_gap_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.population_gap_trans(double precision[], @extschema@.profile, date) IS 'aggregate support: add one customer''s mean gap (transition function of clm.population_gap)';
CREATE AGGREGATE @extschema@.population_gap(p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.population_gap_trans, STYPE = double precision[],
    COMBINEFUNC = pg_catalog.float8_combine, FINALFUNC = pg_catalog.float8_avg,
    INITCOND = '{0,0,0}', PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.population_gap(@extschema@.profile, date) IS 'mean over customers with two or more purchase days on or before as_of of their mean gap between purchase days (days); NULL if there is none; pass it to clm.stage as population_gap_days';

-- One pass over the profiles: every customer's stage with the population gap
-- of the same customers.  State: bigint[] [101, customers, as_of, 4, then
-- 4 elements a customer] (src/customers.h); read it with clm.customer_stage_rows.
CREATE FUNCTION @extschema@.customer_stages_trans(bigint[], bigint, @extschema@.profile, date)
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_trans(bigint[], bigint, @extschema@.profile, date) IS 'aggregate support: add one customer''s purchase history as of the day (transition function of clm.customer_stages)';
CREATE FUNCTION @extschema@.customer_stages_combine(bigint[], bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_combine(bigint[], bigint[]) IS 'aggregate support: the customers of two partial states (combine function of clm.customer_stages)';
CREATE FUNCTION @extschema@.customer_stages_final(bigint[])
    RETURNS bigint[]
    AS 'MODULE_PATHNAME', 'clm_customer_stages_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.customer_stages_final(bigint[]) IS 'aggregate support: the state trimmed to its customers (final function of clm.customer_stages)';
CREATE AGGREGATE @extschema@.customer_stages(customer_id bigint, p @extschema@.profile, as_of date) (
    SFUNC = @extschema@.customer_stages_trans, STYPE = bigint[],
    COMBINEFUNC = @extschema@.customer_stages_combine,
    FINALFUNC = @extschema@.customer_stages_final, PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.customer_stages(bigint, @extschema@.profile, date) IS 'every customer''s purchase history as of the day, 32 bytes a customer, in one pass over the profiles; expand with clm.customer_stage_rows (stages with the population gap of the same customers)';

CREATE FUNCTION @extschema@.customer_stage_rows(s bigint[],
    population_gap_days double precision DEFAULT NULL,
    prior_strength double precision DEFAULT 2,
    new_days integer DEFAULT 30,
    active_ratio double precision DEFAULT 2,
    at_risk_ratio double precision DEFAULT 4,
    lapsed_ratio double precision DEFAULT 8,
    fixed_days boolean DEFAULT false,
    OUT customer_id bigint, OUT stage text, OUT reason text,
    OUT expected_gap_days double precision, OUT days_since_last_purchase integer,
    OUT gap_ratio double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_customer_stage_rows' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION @extschema@.customer_stage_rows(bigint[], double precision, double precision, integer, double precision, double precision, double precision, boolean) IS 'the stage of every customer of a clm.customer_stages value, as clm.stage as of its day; population_gap_days NULL (the default) is the population gap of the same customers (clm.population_gap), 30 if none has two purchase days';
-- Lifecycle counts per period: new, returning, resurrecting, dormant and the
-- pulse ratio (src/lifecycle.c; definitions in the README, "The customer journey").
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
-- Cohort retention (src/retention.c; definitions in the README, "The customer journey").
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
-- Channel preference (src/channel.c; definitions in the README, "The customer journey").

CREATE FUNCTION @extschema@.channel_ranking(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    half_life_days double precision DEFAULT 30,
    OUT channel_rank integer, OUT channel text, OUT score double precision,
    OUT events bigint, OUT purchases bigint, OUT last_day date, OUT days_since_last integer)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'clm_channel_ranking' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION @extschema@.channel_ranking(@extschema@.profile, date, double precision) IS 'the customer''s channels ranked by recent engagement: score = events * 2^(-max(0, as_of - last_day) / half_life_days), ties by purchases then name; days_since_last is negative when the channel was last used after as_of';

CREATE FUNCTION @extschema@.preferred_channel(p @extschema@.profile, as_of date DEFAULT CURRENT_DATE,
    half_life_days double precision DEFAULT 30)
    RETURNS text
    AS 'MODULE_PATHNAME', 'clm_preferred_channel' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.preferred_channel(@extschema@.profile, date, double precision) IS 'the channel ranked first by clm.channel_ranking (NULL if the profile has no channel)';
-- Tracked sources: clm.track registers an event table and builds, in a target
-- schema, a profiles table, the customers table and the population materialised
-- views; clm.refresh keeps them fresh incrementally.
--
-- How new events are found: a statement-level AFTER INSERT trigger on the source
-- (a table or partitioned table) copies the new rows' four columns into the
-- queue table <target>.clm_pending in the writer's own transaction.  clm.refresh
-- empties the queue with DELETE ... RETURNING and merges the profiles of those
-- events into the stored profiles in the same statement, so an event is merged
-- exactly once, in the transaction that removes it from the queue: events of
-- transactions that commit during a refresh stay queued for the next one, late
-- events (old occurred_at, inserted now) are ordinary queue rows, and pg_dump
-- keeps source, queue and profiles consistent (one snapshot).  UPDATE, DELETE
-- and TRUNCATE on the source queue a marker row instead; the next refresh then
-- rebuilds.  A view or foreign table as source has no trigger: every refresh
-- rebuilds.
--
-- Everything here runs with the caller's privileges (no SECURITY DEFINER).

CREATE TABLE @extschema@.tracked_source (
    name text PRIMARY KEY CHECK (name <> '' AND length(name) <= 63),
    source regclass NOT NULL,
    customer_column name NOT NULL,
    time_column name NOT NULL,
    amount_column name NOT NULL,
    channel_column name,
    filter text,
    target_schema name NOT NULL UNIQUE,
    created_schema boolean NOT NULL DEFAULT false,
    incremental boolean NOT NULL,
    settings jsonb NOT NULL,
    readers name[] NOT NULL DEFAULT '{}',
    owner name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    refreshes bigint NOT NULL DEFAULT 0,
    last_refresh timestamptz,
    last_refresh_action text,
    last_refresh_seconds double precision,
    last_refresh_events bigint,
    last_refresh_customers bigint,
    last_rebuild timestamptz,
    last_rebuild_seconds double precision,
    last_refit timestamptz,
    last_views_refresh timestamptz,
    customers bigint
);
COMMENT ON TABLE @extschema@.tracked_source IS 'clm catalog: one row per source registered by clm.track (kept by pg_dump; each role sees all rows and changes only its own)';
COMMENT ON COLUMN @extschema@.tracked_source.name IS 'the name given to clm.track; the argument of clm.refresh, clm.rebuild and clm.untrack';
COMMENT ON COLUMN @extschema@.tracked_source.source IS 'the event table or view';
COMMENT ON COLUMN @extschema@.tracked_source.customer_column IS 'column of the source holding the customer id';
COMMENT ON COLUMN @extschema@.tracked_source.time_column IS 'column of the source holding the event time (timestamptz, timestamp or date)';
COMMENT ON COLUMN @extschema@.tracked_source.amount_column IS 'column of the source holding the amount (NULL = non-purchase event)';
COMMENT ON COLUMN @extschema@.tracked_source.channel_column IS 'column of the source holding the channel, or NULL';
COMMENT ON COLUMN @extschema@.tracked_source.filter IS 'boolean SQL expression over the source columns selecting the rows to count, or NULL for all rows';
COMMENT ON COLUMN @extschema@.tracked_source.target_schema IS 'schema holding the profiles table, the customers table and the materialised views';
COMMENT ON COLUMN @extschema@.tracked_source.created_schema IS 'true if clm.track created the target schema (clm.untrack then drops it when empty)';
COMMENT ON COLUMN @extschema@.tracked_source.incremental IS 'true if the source has the capture triggers (a table); false for views and foreign tables, which every refresh rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.settings IS 'settings of the views, with every default filled in (see the README, "Tracked sources")';
COMMENT ON COLUMN @extschema@.tracked_source.readers IS 'roles given read access to the views';
COMMENT ON COLUMN @extschema@.tracked_source.owner IS 'role that registered the source';
COMMENT ON COLUMN @extschema@.tracked_source.refreshes IS 'number of completed refreshes and rebuilds';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh IS 'start of the last completed clm.refresh or clm.rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_action IS 'what the last refresh did: incremental or rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_seconds IS 'duration of the last refresh (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_events IS 'events read by the last refresh';
COMMENT ON COLUMN @extschema@.tracked_source.last_refresh_customers IS 'customers whose profile the last refresh changed';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild IS 'start of the last full rebuild';
COMMENT ON COLUMN @extschema@.tracked_source.last_rebuild_seconds IS 'duration of the last full rebuild (seconds)';
COMMENT ON COLUMN @extschema@.tracked_source.last_refit IS 'when the models, RFM breakpoints and population gap were last computed';
COMMENT ON COLUMN @extschema@.tracked_source.last_views_refresh IS 'when the population materialised views were last refreshed';
COMMENT ON COLUMN @extschema@.tracked_source.customers IS 'customers in the profiles table after the last refresh';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.tracked_source', '');
GRANT SELECT, INSERT, UPDATE, DELETE ON @extschema@.tracked_source TO PUBLIC;
ALTER TABLE @extschema@.tracked_source ENABLE ROW LEVEL SECURITY;
CREATE POLICY tracked_source_read ON @extschema@.tracked_source FOR SELECT USING (true);
CREATE POLICY tracked_source_own ON @extschema@.tracked_source
    USING (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'))
    WITH CHECK (pg_catalog.pg_has_role(current_user, owner, 'MEMBER'));

CREATE TYPE @extschema@.refresh_result AS (
    name text,
    action text,
    events bigint,
    customers_changed bigint,
    customers bigint,
    refit boolean,
    views_refreshed boolean,
    seconds double precision
);
COMMENT ON TYPE @extschema@.refresh_result IS 'what one clm.refresh or clm.rebuild call did';
COMMENT ON COLUMN @extschema@.refresh_result.name IS 'the tracked source';
COMMENT ON COLUMN @extschema@.refresh_result.action IS 'incremental, rebuild, or skipped (another session was refreshing the source)';
COMMENT ON COLUMN @extschema@.refresh_result.events IS 'events read';
COMMENT ON COLUMN @extschema@.refresh_result.customers_changed IS 'customers whose profile changed';
COMMENT ON COLUMN @extschema@.refresh_result.customers IS 'customers in the profiles table afterwards';
COMMENT ON COLUMN @extschema@.refresh_result.refit IS 'true if the models, RFM breakpoints and population gap were recomputed';
COMMENT ON COLUMN @extschema@.refresh_result.views_refreshed IS 'true if the population materialised views were refreshed';
COMMENT ON COLUMN @extschema@.refresh_result.seconds IS 'duration (seconds)';

-- The settings with their defaults; clm.track validates a user's jsonb against it.
CREATE FUNCTION @extschema@.track_settings(settings jsonb DEFAULT '{}')
    RETURNS jsonb LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    defaults jsonb := jsonb_build_object(
        'time_zone', current_setting('TimeZone'),
        'as_of', NULL,
        'rfm_map', 'rfm11',
        'rfm_scores', 5,
        'model', 'bgnbd',
        'clv_horizon_weeks', 52,
        'annual_discount_rate', 0.10,
        'margin', 1.0,
        'population_gap_days', NULL,
        'prior_strength', 2,
        'new_days', 30,
        'active_ratio', 2,
        'at_risk_ratio', 4,
        'lapsed_ratio', 8,
        'fixed_days', false,
        'half_life_days', 30,
        'week_start', 1,
        'stage_days', 90,
        'lifecycle_weeks', 52,
        'cohort_months', 24,
        'transition_days', 90,
        'refit_interval', '1 day',
        'views_interval', '1 hour');
    s jsonb;
    k text;
    v jsonb;
BEGIN
    IF settings IS NULL THEN
        settings := '{}';
    END IF;
    IF jsonb_typeof(settings) <> 'object' THEN
        RAISE EXCEPTION 'clm: settings must be a JSON object'
            USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT jsonb_object_keys(settings) LOOP
        IF NOT defaults ? k THEN
            RAISE EXCEPTION 'clm: unknown setting "%"', k
                USING ERRCODE = '22023',
                      HINT = 'Known settings: ' || (SELECT string_agg(x, ', ' ORDER BY x) FROM jsonb_object_keys(defaults) x) || '.';
        END IF;
    END LOOP;
    s := defaults || jsonb_strip_nulls(settings);
    -- check each value by converting it to its type
    BEGIN
        PERFORM now() AT TIME ZONE (s->>'time_zone');
        PERFORM (s->>'as_of')::date, (s->>'refit_interval')::interval, (s->>'views_interval')::interval,
                (s->>'fixed_days')::boolean;
        FOREACH k IN ARRAY ARRAY['rfm_scores', 'clv_horizon_weeks', 'new_days', 'week_start',
                                 'stage_days', 'lifecycle_weeks', 'cohort_months', 'transition_days'] LOOP
            PERFORM (s->>k)::integer;
        END LOOP;
        FOREACH k IN ARRAY ARRAY['annual_discount_rate', 'margin', 'population_gap_days', 'prior_strength',
                                 'active_ratio', 'at_risk_ratio', 'lapsed_ratio', 'half_life_days'] LOOP
            PERFORM (s->>k)::float8;
        END LOOP;
    EXCEPTION WHEN data_exception OR invalid_parameter_value OR datetime_field_overflow THEN
        RAISE EXCEPTION 'clm: invalid settings: %', SQLERRM USING ERRCODE = '22023';
    END;
    IF (s->>'rfm_scores')::int NOT BETWEEN 2 AND 9 THEN
        RAISE EXCEPTION 'clm: rfm_scores must be between 2 and 9' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.rfm_segment_map m WHERE m.map_name = s->>'rfm_map') THEN
        RAISE EXCEPTION 'clm: no RFM segment map named "%"', s->>'rfm_map'
            USING ERRCODE = '22023', HINT = 'See clm.rfm_segment_map.';
    END IF;
    IF s->>'model' NOT IN ('bgnbd', 'mbgnbd', 'paretonbd') THEN
        RAISE EXCEPTION 'clm: model must be bgnbd, mbgnbd or paretonbd, not "%"', s->>'model'
            USING ERRCODE = '22023';
    END IF;
    IF (s->>'clv_horizon_weeks')::int NOT BETWEEN 1 AND 5200 THEN
        RAISE EXCEPTION 'clm: clv_horizon_weeks must be between 1 and 5200' USING ERRCODE = '22023';
    END IF;
    IF NOT (s->>'annual_discount_rate')::float8 BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'clm: annual_discount_rate must be between 0 and 100 (0.1 = 10%% a year)' USING ERRCODE = '22023';
    END IF;
    IF NOT (s->>'margin')::float8 BETWEEN 0 AND 1 THEN
        RAISE EXCEPTION 'clm: margin must be between 0 and 1' USING ERRCODE = '22023';
    END IF;
    IF (s->>'week_start')::int NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'clm: week_start must be between 1 (Monday) and 7 (Sunday)' USING ERRCODE = '22023';
    END IF;
    IF (s->>'stage_days')::int NOT BETWEEN 1 AND 3660 OR (s->>'transition_days')::int NOT BETWEEN 1 AND 3660
       OR (s->>'lifecycle_weeks')::int NOT BETWEEN 1 AND 520 OR (s->>'cohort_months')::int NOT BETWEEN 0 AND 240 THEN
        RAISE EXCEPTION 'clm: stage_days and transition_days must be in 1..3660, lifecycle_weeks in 1..520, cohort_months in 0..240'
            USING ERRCODE = '22023';
    END IF;
    IF (s->>'half_life_days')::float8 <= 0 OR (s->>'population_gap_days')::float8 <= 0 THEN
        RAISE EXCEPTION 'clm: half_life_days and population_gap_days must be positive' USING ERRCODE = '22023';
    END IF;
    IF (s->>'refit_interval')::interval < '0' OR (s->>'views_interval')::interval < '0' THEN
        RAISE EXCEPTION 'clm: refit_interval and views_interval must not be negative' USING ERRCODE = '22023';
    END IF;
    RETURN s;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_settings(jsonb) IS 'the settings of a tracked source: the given jsonb object checked and completed with every default';

-- The stage rule arguments (after "as_of, population gap") as SQL text.
CREATE FUNCTION @extschema@.track_stage_args(s jsonb)
    RETURNS text LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('%s::float8, %s::int, %s::float8, %s::float8, %s::float8, %s::boolean',
                  quote_literal(s->>'prior_strength'), quote_literal(s->>'new_days'),
                  quote_literal(s->>'active_ratio'), quote_literal(s->>'at_risk_ratio'),
                  quote_literal(s->>'lapsed_ratio'), quote_literal(s->>'fixed_days'))
$fn$;
COMMENT ON FUNCTION @extschema@.track_stage_args(jsonb) IS 'internal: the stage rule arguments of a tracked source as SQL text';

-- The customers rows of the (customer_id, profile) rows of relation rel, as SQL text.
CREATE FUNCTION @extschema@.track_customers_sql(rel text, target name, s jsonb)
    RETURNS text LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    weekly_rate text := format('(power(1 + %s::float8, 7 / 365.25) - 1)', quote_literal(s->>'annual_discount_rate'));
BEGIN
    -- each composite (summary, scores, stage, model inputs) is computed once
    -- per row in the inner query (OFFSET 0 keeps it from being flattened) and
    -- its fields read outside, without a function scan per call
    RETURN format($q$
SELECT x.customer_id,
       x.as_of,
       (x.sm).first_purchase, (x.sm).last_purchase, (x.sm).orders, (x.sm).frequency, (x.sm).transactions,
       (x.sm).recency_days, (x.sm).tenure_days, (x.sm).days_since_last_purchase, (x.sm).monetary,
       (x.sm).total_spend, (x.sm).first_seen, (x.sm).last_seen, (x.sm).active_days,
       (x.sm).days_since_last_seen, (x.sm).mean_gap_days,
       (x.sc).r_score, (x.sc).f_score, (x.sc).m_score, (x.sc).rfm_code,
       (@extschema@.rfm_segment((x.sc).r_score, (x.sc).f_score, (x.sc).m_score, %5$L)).segment AS rfm_segment,
       (x.st).stage, (x.st).reason AS stage_reason, (x.st).expected_gap_days,
       @extschema@.p_alive(x.model, (x.b).x, (x.b).t_x, (x.b).t) AS p_alive,
       @extschema@.churn_probability(x.model, (x.b).x, (x.b).t_x, (x.b).t) AS churn_probability,
       @extschema@.expected_purchases(x.model, 30 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_30d,
       @extschema@.expected_purchases(x.model, 90 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_90d,
       @extschema@.expected_purchases(x.model, 365 / 7.0, (x.b).x, (x.b).t_x, (x.b).t) AS expected_purchases_365d,
       x.spend AS expected_spend,
       @extschema@.clv(x.model, %1$s, %2$s, %3$s::float8, x.spend, (x.b).x, (x.b).t_x, (x.b).t) AS clv,
       @extschema@.preferred_channel(x.profile, x.as_of, %4$s::float8) AS preferred_channel,
       x.changed_at AS profile_changed_at
  FROM (SELECT y.*,
               CASE WHEN (y.b).x = 0 OR (y.b).mean_spend > 0
                    THEN @extschema@.expected_spend(y.spend_model, (y.b).x, (y.b).mean_spend::float8) END AS spend
          FROM (SELECT r.customer_id, r.profile, r.changed_at, f.as_of, f.model, f.spend_model,
                       @extschema@.summary(r.profile, f.as_of) AS sm,
                       @extschema@.rfm_score(r.profile, f.breakpoints, f.as_of) AS sc,
                       @extschema@.stage(r.profile, f.as_of, f.population_gap, %7$s) AS st,
                       @extschema@.btyd_inputs(r.profile, f.as_of, 'week') AS b
                  FROM %6$s r CROSS JOIN %8$I.clm_fit f
                OFFSET 0) y
        OFFSET 0) x
$q$,
        (s->>'clv_horizon_weeks')::int, weekly_rate, quote_literal(s->>'margin'),
        quote_literal(s->>'half_life_days'), s->>'rfm_map', rel, @extschema@.track_stage_args(s), target);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_sql(text, name, jsonb) IS 'internal: the query computing the customers rows of a tracked source';

-- The column comments of the customers table.
CREATE FUNCTION @extschema@.track_customers_comments(OUT col text, OUT doc text)
    RETURNS SETOF record LANGUAGE sql IMMUTABLE
AS $fn$
VALUES
 ('customer_id', 'customer id (as in the source)'),
 ('as_of', 'day the row describes (date): the refresh day in the source''s time zone, or the fixed as_of setting'),
 ('first_purchase', 'first purchase day (date)'),
 ('last_purchase', 'last purchase day (date)'),
 ('orders', 'purchase days (count; orders on one day count once)'),
 ('frequency', 'repeat purchase days = orders - 1 (count)'),
 ('transactions', 'purchase events, every order counted (count)'),
 ('recency_days', 'last_purchase - first_purchase (days)'),
 ('tenure_days', 'as_of - first_purchase (days)'),
 ('days_since_last_purchase', 'as_of - last_purchase (days)'),
 ('monetary', 'mean spend of the repeat purchase days (currency units; NULL with no repeat purchase)'),
 ('total_spend', 'net spend of all purchase days, refunds subtracted (currency units)'),
 ('first_seen', 'first day with any event (date)'),
 ('last_seen', 'last day with any event (date)'),
 ('active_days', 'days with any event (count)'),
 ('days_since_last_seen', 'as_of - last_seen (days)'),
 ('mean_gap_days', 'mean gap between purchase days = recency_days / frequency (days)'),
 ('r_score', 'RFM recency score, 1 (longest ago) to n (most recent), population breakpoints of the last refit'),
 ('f_score', 'RFM frequency score, 1 (fewest purchase days) to n'),
 ('m_score', 'RFM monetary score, 1 (lowest total spend) to n'),
 ('rfm_code', 'r, f and m scores as three digits'),
 ('rfm_segment', 'segment of the score cell in the configured segment map (rfm_map setting)'),
 ('stage', 'lifecycle stage: prospect, new, active, at_risk, lapsed, churned or reactivated (clm.stage)'),
 ('stage_reason', 'why the customer is in that stage, in words'),
 ('expected_gap_days', 'the customer''s expected gap between purchases, shrunk toward the population''s (days)'),
 ('p_alive', 'probability that the customer is still active, from the fitted purchase model (0 to 1)'),
 ('churn_probability', '1 - p_alive (0 to 1)'),
 ('expected_purchases_30d', 'expected purchase days in the next 30 days (count)'),
 ('expected_purchases_90d', 'expected purchase days in the next 90 days (count)'),
 ('expected_purchases_365d', 'expected purchase days in the next 365 days (count)'),
 ('expected_spend', 'expected spend per purchase day, Gamma-Gamma conditional mean (currency units; NULL when refunds make the mean repeat spend zero or negative)'),
 ('clv', 'customer lifetime value over clv_horizon_weeks: margin x expected spend x discounted expected purchases (currency units)'),
 ('preferred_channel', 'channel with the highest recency-weighted engagement (clm.preferred_channel)'),
 ('profile_changed_at', 'when the customer''s stored profile last changed (refresh time)')
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_comments() IS 'internal: the column comments of a tracked source''s customers table';

-- Creates (or re-creates) the population materialised views of a tracked source.
-- (jit = off here and in the refit, customers, refresh and rebuild functions:
-- their statements spend their time in clm's C functions, which JIT cannot
-- speed up, and the planner's estimates of the LATERAL function joins
-- (one-row clm_fit estimated at hundreds of rows) trigger JIT with inlining and
-- optimisation, 0.2 to 0.3 s of compilation per statement.)
CREATE FUNCTION @extschema@.track_create_views(t name, s jsonb)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    stage_args text := @extschema@.track_stage_args(s);
    c record;
BEGIN
    -- stage counts per day: one pass of clm.stage_counts over the profiles
    -- (each customer's stage on the first day, then its changes); the outer
    -- join gives zero rows, not none, when there is no profile yet
    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_counts_daily AS
SELECT r.day, r.stage, r.customers, a.as_of
  FROM (SELECT @extschema@.stage_counts(p.profile, f.as_of - %2$s + 1, f.as_of, f.population_gap, %3$s) AS c
          FROM %1$I.clm_fit f LEFT JOIN %1$I.profiles p ON true) agg
       CROSS JOIN LATERAL @extschema@.stage_count_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'stage_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_counts_daily (day, stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.lifecycle_weekly AS
SELECT l.period_start AS week_start, l.new_customers, l.returning_customers, l.resurrecting_customers,
       l.dormant_customers, l.active_customers, l.pulse, a.as_of
  FROM (SELECT @extschema@.lifecycle(p.profile, f.as_of - 7 * %2$s, f.as_of, 'week', 1, false, %3$s) AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.lifecycle_rows(agg.c) l
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'lifecycle_weeks')::int, (s->>'week_start')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.lifecycle_weekly (week_start)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.cohort_retention_monthly AS
SELECT r.cohort, r.period_offset AS month_offset, r.cohort_customers, r.retained_customers,
       r.retention_rate, r.revenue, a.as_of
  FROM (SELECT @extschema@.retention(p.profile,
                   (date_trunc('month', f.as_of) - interval '%2$s months')::date, f.as_of, 'month') AS c
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.retention_rows(agg.c) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
 WHERE r.cohort IS NOT NULL
$q$, t, (s->>'cohort_months')::int);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.cohort_retention_monthly (cohort, month_offset)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.stage_transitions AS
SELECT coalesce(r.from_stage, 'none') AS from_stage, coalesce(r.to_stage, 'none') AS to_stage,
       r.customers, a.as_of - %2$s AS from_day, a.as_of AS to_day
  FROM (SELECT @extschema@.stage_transitions(p.profile, f.as_of - %2$s, f.as_of, f.population_gap, %3$s) AS m
          FROM %1$I.profiles p CROSS JOIN %1$I.clm_fit f) agg
       CROSS JOIN LATERAL @extschema@.transition_rows(agg.m) r
       CROSS JOIN (SELECT as_of FROM %1$I.clm_fit) a
$q$, t, (s->>'transition_days')::int, stage_args);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.stage_transitions (from_stage, to_stage)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.segment_summary AS
SELECT coalesce(c.rfm_segment, 'no purchase') AS segment,
       count(*) AS customers,
       coalesce(sum(c.total_spend), 0) AS revenue,
       avg(c.clv) AS mean_clv,
       sum(c.clv) AS total_clv,
       avg(c.churn_probability) AS mean_churn_probability,
       count(*) FILTER (WHERE c.stage IN ('at_risk', 'lapsed')) AS at_risk_customers,
       max(c.as_of) AS as_of
  FROM %1$I.customers c
 GROUP BY 1
$q$, t);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.segment_summary (segment)', t);

    EXECUTE format($q$
CREATE MATERIALIZED VIEW %1$I.models AS
SELECT m.role, i.kind, i.parameter_names, i.parameters, i.std_errors, i.log_likelihood,
       i.n_customers, i.n_distinct, i.converged, i.iterations, i.message,
       2 * cardinality(i.parameters) - 2 * i.log_likelihood AS aic,
       cardinality(i.parameters) * ln(greatest(i.n_customers, 1)) - 2 * i.log_likelihood AS bic,
       m.error, f.fitted_at, f.fit_seconds, f.as_of, m.model
  FROM %1$I.clm_fit f
       CROSS JOIN LATERAL (VALUES ('purchase', f.model, f.model_error),
                                  ('spend', f.spend_model, f.spend_model_error)) m(role, model, error)
       LEFT JOIN LATERAL @extschema@.model_info(m.model) i ON true
$q$, t);
    EXECUTE format('CREATE UNIQUE INDEX ON %I.models (role)', t);

    -- documentation of every view and column
    FOR c IN SELECT * FROM (VALUES
        ('stage_counts_daily', NULL, 'customers in each lifecycle stage on each of the last stage_days days (stage as clm.stage, rules of the tracked source)'),
        ('stage_counts_daily', 'day', 'the day (date)'),
        ('stage_counts_daily', 'stage', 'lifecycle stage'),
        ('stage_counts_daily', 'customers', 'customers in that stage at the end of the day (count)'),
        ('stage_counts_daily', 'as_of', 'day of the last refit (date)'),
        ('lifecycle_weekly', NULL, 'new, returning, resurrecting and dormant customers per week (clm.lifecycle, any event counts as activity)'),
        ('lifecycle_weekly', 'week_start', 'first day of the week (date; week_start setting, 1 = Monday)'),
        ('lifecycle_weekly', 'new_customers', 'customers whose first event ever is in the week (count)'),
        ('lifecycle_weekly', 'returning_customers', 'customers active in the week and in the week before (count)'),
        ('lifecycle_weekly', 'resurrecting_customers', 'customers active in the week, inactive the week before and active in some earlier week (count)'),
        ('lifecycle_weekly', 'dormant_customers', 'customers active the week before and inactive in this week (count)'),
        ('lifecycle_weekly', 'active_customers', 'customers with an event in the week (count)'),
        ('lifecycle_weekly', 'pulse', '(new + resurrecting) / dormant (ratio; NULL with no dormant customer)'),
        ('lifecycle_weekly', 'as_of', 'day of the last refit (date)'),
        ('cohort_retention_monthly', NULL, 'monthly cohorts by first purchase: customers who bought again in each later month (clm.retention, exact period)'),
        ('cohort_retention_monthly', 'cohort', 'month of the first purchase (date, first of the month)'),
        ('cohort_retention_monthly', 'month_offset', 'months after the cohort month (0 = the cohort month)'),
        ('cohort_retention_monthly', 'cohort_customers', 'customers in the cohort (count)'),
        ('cohort_retention_monthly', 'retained_customers', 'cohort customers with a purchase in that month (count)'),
        ('cohort_retention_monthly', 'retention_rate', 'retained_customers / cohort_customers (0 to 1)'),
        ('cohort_retention_monthly', 'revenue', 'net spend of the cohort in that month (currency units)'),
        ('cohort_retention_monthly', 'as_of', 'day of the last refit (date); only months ended by then are shown'),
        ('stage_transitions', NULL, 'customers by stage on from_day and stage on to_day (the last transition_days days); none = no event yet'),
        ('stage_transitions', 'from_stage', 'stage on from_day (none = no event yet)'),
        ('stage_transitions', 'to_stage', 'stage on to_day'),
        ('stage_transitions', 'customers', 'customers making that move (count)'),
        ('stage_transitions', 'from_day', 'start of the window (date)'),
        ('stage_transitions', 'to_day', 'end of the window (date)'),
        ('segment_summary', NULL, 'one row per RFM segment: customers, revenue, CLV and churn risk (from the customers table)'),
        ('segment_summary', 'segment', 'RFM segment (no purchase = customers with activity only)'),
        ('segment_summary', 'customers', 'customers in the segment (count)'),
        ('segment_summary', 'revenue', 'their total net spend to date (currency units)'),
        ('segment_summary', 'mean_clv', 'mean CLV (currency units)'),
        ('segment_summary', 'total_clv', 'sum of CLV (currency units)'),
        ('segment_summary', 'mean_churn_probability', 'mean churn probability (0 to 1)'),
        ('segment_summary', 'at_risk_customers', 'customers in stage at_risk or lapsed (count)'),
        ('segment_summary', 'as_of', 'day of the customers rows (date)'),
        ('models', NULL, 'the fitted models of the last refit and their fit quality: purchase model (model setting) and Gamma-Gamma spend model'),
        ('models', 'role', 'purchase (BG/NBD, MBG/NBD or Pareto/NBD, time unit week) or spend (Gamma-Gamma)'),
        ('models', 'kind', 'model kind (clm.model_info)'),
        ('models', 'parameter_names', 'names of the parameters'),
        ('models', 'parameters', 'maximum-likelihood estimates (rates per week)'),
        ('models', 'std_errors', 'standard errors from the Hessian'),
        ('models', 'log_likelihood', 'log-likelihood at the estimates'),
        ('models', 'n_customers', 'customers in the fit (count)'),
        ('models', 'n_distinct', 'distinct input tuples in the fit (count)'),
        ('models', 'converged', 'true if the optimiser converged'),
        ('models', 'iterations', 'optimiser iterations'),
        ('models', 'message', 'optimiser message'),
        ('models', 'aic', 'Akaike information criterion = 2k - 2 log-likelihood'),
        ('models', 'bic', 'Bayesian information criterion = k ln(n) - 2 log-likelihood'),
        ('models', 'error', 'why the model could not be fitted (NULL if it was)'),
        ('models', 'fitted_at', 'when the fit ran (timestamptz)'),
        ('models', 'fit_seconds', 'duration of the refit (seconds)'),
        ('models', 'as_of', 'calibration end of the fit (date)'),
        ('models', 'model', 'the fitted clm.model value, for clm.p_alive, clm.clv and the other predictions')
    ) v(rel, col, doc) LOOP
        IF c.col IS NULL THEN
            EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', t, c.rel, c.doc);
        ELSE
            EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', t, c.rel, c.col, c.doc);
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_create_views(name, jsonb) IS 'internal: creates the population materialised views of a tracked source';

-- The tracked source row of a name, or an error.
CREATE FUNCTION @extschema@.track_lookup(source_name text)
    RETURNS @extschema@.tracked_source LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source;
BEGIN
    SELECT * INTO r FROM @extschema@.tracked_source ts WHERE ts.name = source_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'clm: no tracked source named "%"', source_name
            USING ERRCODE = '42704', HINT = 'SELECT name FROM clm.tracked_sources lists them.';
    END IF;
    RETURN r;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_lookup(text) IS 'internal: the catalog row of a tracked source, or error 42704';

-- Grants INSERT on the queue to every role that may write to the source.
CREATE FUNCTION @extschema@.track_grant_writers(src regclass, t name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    g oid;
    role_sql text;
BEGIN
    FOR g IN
        SELECT DISTINCT a.grantee
          FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
         WHERE c.oid = src AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')
        UNION
        SELECT relowner FROM pg_class WHERE oid = src
    LOOP
        role_sql := CASE WHEN g = 0 THEN 'PUBLIC' ELSE quote_ident(g::regrole::text) END;
        IF g <> 0 AND g::regrole::text = current_user::text THEN
            CONTINUE;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %s', t, role_sql);
        EXECUTE format('GRANT INSERT ON %I.clm_pending TO %s', t, role_sql);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_grant_writers(regclass, name) IS 'internal: lets every role that writes to the source write to its queue';

-- Registers a source and builds its schema of views.
CREATE FUNCTION @extschema@.track(source regclass, customer_column name, time_column name,
    amount_column name, channel_column name DEFAULT NULL, target_schema name DEFAULT NULL,
    name text DEFAULT NULL, filter text DEFAULT NULL, reader name DEFAULT NULL,
    settings jsonb DEFAULT '{}')
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    s jsonb := @extschema@.track_settings(settings);
    rel pg_class;
    t name;
    made_schema boolean := false;
    src_name text;
    ctype text;
    ttype text;
    atype text;
    tag text;
    col record;
    res @extschema@.refresh_result;
    incremental boolean;
BEGIN
    IF source IS NULL OR customer_column IS NULL OR time_column IS NULL OR amount_column IS NULL THEN
        RAISE EXCEPTION 'clm.track: source, customer_column, time_column and amount_column are required'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_class WHERE oid = source;
    IF rel.relkind NOT IN ('r', 'p', 'v', 'm', 'f') THEN
        RAISE EXCEPTION 'clm.track: % is not a table or view', source USING ERRCODE = '42809';
    END IF;
    incremental := rel.relkind IN ('r', 'p');
    t := coalesce(target_schema, left('clm_' || rel.relname, 63));
    src_name := coalesce(name, t);
    IF src_name = '' OR length(src_name) > 63 THEN
        RAISE EXCEPTION 'clm.track: name must have 1 to 63 characters' USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.name = src_name) THEN
        RAISE EXCEPTION 'clm.track: a source named "%" is already tracked', src_name
            USING ERRCODE = '42710', HINT = 'Give another name, or clm.untrack it first.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.tracked_source ts WHERE ts.target_schema = t) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already holds a tracked source', t
            USING ERRCODE = '42710', HINT = 'Choose another target_schema.';
    END IF;
    IF t = '@extschema@' OR t IN ('pg_catalog', 'information_schema', 'public') OR t LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'clm.track: schema "%" cannot be a target schema', t USING ERRCODE = '42939';
    END IF;
    IF NOT has_table_privilege(source, 'SELECT') THEN
        RAISE EXCEPTION 'clm.track: permission denied to read %', source USING ERRCODE = '42501';
    END IF;

    -- the columns and their types
    SELECT format_type(a.atttypid, a.atttypmod) INTO ctype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = customer_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ctype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, customer_column USING ERRCODE = '42703';
    END IF;
    SELECT a.atttypid::regtype::text INTO ttype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = time_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF ttype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, time_column USING ERRCODE = '42703';
    ELSIF ttype NOT IN ('timestamp with time zone', 'timestamp without time zone', 'date') THEN
        RAISE EXCEPTION 'clm.track: time column "%" is %, not timestamptz, timestamp or date', time_column, ttype
            USING ERRCODE = '42804';
    END IF;
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = source AND a.attname = amount_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF atype IS NULL THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, amount_column USING ERRCODE = '42703';
    ELSIF atype NOT IN ('numeric', 'double precision', 'real', 'smallint', 'integer', 'bigint') THEN
        RAISE EXCEPTION 'clm.track: amount column "%" is %, not a number', amount_column, atype
            USING ERRCODE = '42804';
    END IF;
    IF channel_column IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM pg_attribute a WHERE a.attrelid = source AND a.attname = channel_column AND a.attnum > 0 AND NOT a.attisdropped) THEN
        RAISE EXCEPTION 'clm.track: % has no column "%"', source, channel_column USING ERRCODE = '42703';
    END IF;
    IF filter IS NOT NULL THEN
        -- one boolean expression over the source's columns, nothing else
        IF position(';' IN filter) > 0 OR position('$' IN filter) > 0 THEN
            RAISE EXCEPTION 'clm.track: filter must be a single boolean expression (no ";" or "$")'
                USING ERRCODE = '42601';
        END IF;
        EXECUTE format('SELECT 1 FROM %s WHERE (%s) LIMIT 0', source, filter);
    END IF;

    -- the target schema
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = t) THEN
        EXECUTE format('CREATE SCHEMA %I', t);
        made_schema := true;
    ELSIF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = t AND c.relname IN ('profiles', 'customers', 'clm_pending', 'clm_fit',
                         'stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                         'stage_transitions', 'segment_summary', 'models')) THEN
        RAISE EXCEPTION 'clm.track: schema "%" already has a table or view named like one clm creates', t
            USING ERRCODE = '42P07',
                  HINT = 'clm creates profiles, customers, clm_pending, clm_fit and the views stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models.';
    END IF;
    IF made_schema THEN
        EXECUTE format('COMMENT ON SCHEMA %I IS %L', t,
                       format('clm views of %s (tracked source %s)', source, src_name));
    END IF;

    INSERT INTO @extschema@.tracked_source (name, source, customer_column, time_column, amount_column,
        channel_column, filter, target_schema, created_schema, incremental, settings)
    VALUES (src_name, source, customer_column, time_column, amount_column, channel_column, filter, t,
            made_schema, incremental, s);

    EXECUTE format($q$CREATE TABLE %I.profiles (
        customer_id %s PRIMARY KEY,
        profile @extschema@.profile NOT NULL,
        changed_at timestamptz NOT NULL)$q$, t, ctype);
    EXECUTE format('COMMENT ON TABLE %I.profiles IS %L', t,
        format('one clm.profile per customer of %s, merged incrementally by clm.refresh(%L)', source, src_name));
    EXECUTE format('COMMENT ON COLUMN %I.profiles.customer_id IS %L', t, 'customer id (as in the source)');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.profile IS %L', t, 'the customer''s history (clm.profile), days in the time zone of the time_zone setting');
    EXECUTE format('COMMENT ON COLUMN %I.profiles.changed_at IS %L', t, 'when the profile last changed (refresh time)');

    EXECUTE format($q$CREATE TABLE %I.clm_fit (
        as_of date NOT NULL,
        fitted_at timestamptz NOT NULL,
        fit_seconds double precision,
        model @extschema@.model,
        model_error text,
        spend_model @extschema@.model,
        spend_model_error text,
        breakpoints @extschema@.rfm_breakpoints,
        population_gap double precision NOT NULL)$q$, t);
    EXECUTE format('COMMENT ON TABLE %I.clm_fit IS %L', t,
        'clm internal: the population parameters of the last refit (one row): models, RFM breakpoints, population gap');

    IF incremental THEN
        EXECUTE format($q$CREATE TABLE %I.clm_pending (
            customer_id %s,
            occurred_at %s,
            amount %s,
            channel text,
            op text)$q$, t, ctype, ttype, atype);
        EXECUTE format('COMMENT ON TABLE %I.clm_pending IS %L', t,
            format('clm internal: events inserted into %s and not yet merged by clm.refresh; op = a change that needs a rebuild', source));
        PERFORM @extschema@.track_grant_writers(source, t);

        EXECUTE format($q$CREATE FUNCTION %1$I.clm_capture() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO %1$I.clm_pending (customer_id, occurred_at, amount, channel)
    SELECT %2$I, %3$I, %4$I, %5$s FROM clm_new_rows
     WHERE %2$I IS NOT NULL AND %3$I IS NOT NULL AND (%6$s);
    RETURN NULL;
END
$body$$q$, t, customer_column, time_column, amount_column,
            CASE WHEN channel_column IS NULL THEN 'NULL::text' ELSE format('%I::text', channel_column) END,
            coalesce(filter, 'true'));
        EXECUTE format('COMMENT ON FUNCTION %I.clm_capture() IS %L', t,
            format('clm internal: queues the rows inserted into %s for clm.refresh', source));
        EXECUTE format($q$CREATE FUNCTION %1$I.clm_invalidate() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    INSERT INTO %1$I.clm_pending (op) VALUES (TG_OP);
    RETURN NULL;
END
$body$$q$, t);
        EXECUTE format('COMMENT ON FUNCTION %I.clm_invalidate() IS %L', t,
            format('clm internal: records an UPDATE, DELETE or TRUNCATE of %s, after which clm.refresh rebuilds', source));
        tag := left(md5(src_name), 12);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS clm_new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_capture()',
                       'clm_capture_' || tag, source, t);
        IF filter IS NULL THEN
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF %I, %I, %I%s OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_invalidate()',
                           'clm_invalidate_' || tag, customer_column, time_column, amount_column,
                           CASE WHEN channel_column IS NULL THEN '' ELSE format(', %I', channel_column) END,
                           source, t);
        ELSE
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.clm_invalidate()',
                           'clm_invalidate_' || tag, source, t);
        END IF;
    END IF;

    -- the customers table and the views, created empty and filled by the rebuild
    EXECUTE format('CREATE TABLE %I.customers AS %s WITH NO DATA', t,
                   @extschema@.track_customers_sql(format('%I.profiles', t), t, s));
    EXECUTE format('ALTER TABLE %I.customers ADD PRIMARY KEY (customer_id)', t);
    EXECUTE format('COMMENT ON TABLE %I.customers IS %L', t,
        format('one row per customer of %s: summary, RFM, stage, churn and CLV; kept fresh by clm.refresh(%L) (rows of changed customers are replaced; all rows at each refit)', source, src_name));
    FOR col IN SELECT * FROM @extschema@.track_customers_comments() LOOP
        EXECUTE format('COMMENT ON COLUMN %I.customers.%I IS %L', t, col.col, col.doc);
    END LOOP;
    -- no index but the primary key: the segment and stage columns have a
    -- dozen values, where a sequential scan wins, and every index costs each
    -- refresh and refit (add your own if a query needs one)

    res := @extschema@.rebuild_internal(src_name, true);
    PERFORM @extschema@.track_create_views(t, s);
    UPDATE @extschema@.tracked_source ts SET last_views_refresh = now() WHERE ts.name = src_name;
    res.views_refreshed := true;
    IF reader IS NOT NULL THEN
        PERFORM @extschema@.grant_reader(src_name, reader);
    END IF;
    res.action := 'track';
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track(regclass, name, name, name, name, name, text, text, name, jsonb) IS 'registers an event table or view and builds its schema of customer views (profiles, customers, stage_counts_daily, lifecycle_weekly, cohort_retention_monthly, stage_transitions, segment_summary, models)';

-- The SQL expressions reading one event of a tracked source (or its queue).
CREATE FUNCTION @extschema@.track_profile_sql(r @extschema@.tracked_source, from_queue boolean)
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tcol text := CASE WHEN from_queue THEN 'occurred_at' ELSE quote_ident(r.time_column) END;
    acol text := CASE WHEN from_queue THEN 'amount' ELSE quote_ident(r.amount_column) END;
    ccol text := CASE WHEN from_queue THEN 'channel'
                      WHEN r.channel_column IS NOT NULL THEN format('%I::text', r.channel_column) END;
    atype text;
BEGIN
    SELECT a.atttypid::regtype::text INTO atype
      FROM pg_attribute a WHERE a.attrelid = r.source AND a.attname = r.amount_column;
    IF atype NOT IN ('numeric', 'double precision') THEN
        acol := acol || '::numeric';
    END IF;
    IF r.channel_column IS NULL THEN
        RETURN format('@extschema@.profile(%s, %s)', tcol, acol);
    END IF;
    RETURN format('@extschema@.profile(%s, %s, %s)', tcol, acol, ccol);
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_profile_sql(@extschema@.tracked_source, boolean) IS 'internal: the clm.profile call over a tracked source''s rows or its queue, as SQL text';

-- Takes the refresh lock of a tracked source: true if taken.
CREATE FUNCTION @extschema@.track_lock(source_name text, wait boolean)
    RETURNS boolean LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF wait THEN
        PERFORM pg_advisory_xact_lock(6515053, hashtext(source_name));
        RETURN true;
    END IF;
    RETURN pg_try_advisory_xact_lock(6515053, hashtext(source_name));
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_lock(text, boolean) IS 'internal: the transaction advisory lock (6515053, hashtext(name)) that serialises refreshes of a tracked source';

-- Recomputes the population parameters: models, RFM breakpoints, population gap.
CREATE FUNCTION @extschema@.track_refit(r @extschema@.tracked_source, as_of date)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    t name := r.target_schema;
    s jsonb := r.settings;
    started timestamptz := clock_timestamp();
    bp @extschema@.rfm_breakpoints;
    gap float8;
    m @extschema@.model;
    g @extschema@.model;
    merr text;
    gerr text;
BEGIN
    -- one scan for everything; if a model cannot be fitted, again piece by
    -- piece to keep what can be (the fits read the profiles directly and skip
    -- customers with T = 0, whose first purchase is on as_of)
    BEGIN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1),'
                       ' @extschema@.%s_fit(p.profile, $1, ''week''), @extschema@.gg_fit(p.profile, $1, ''week'')'
                       ' FROM %I.profiles p', s->>'model', t)
            INTO bp, gap, m, g USING as_of, (s->>'rfm_scores')::int;
    EXCEPTION WHEN OTHERS THEN
        EXECUTE format('SELECT @extschema@.rfm_breakpoints(p.profile, $1, $2), @extschema@.population_gap(p.profile, $1) FROM %I.profiles p', t)
            INTO bp, gap USING as_of, (s->>'rfm_scores')::int;
        BEGIN
            EXECUTE format('SELECT @extschema@.%s_fit(p.profile, $1, ''week'') FROM %I.profiles p', s->>'model', t)
                INTO m USING as_of;
        EXCEPTION WHEN OTHERS THEN
            merr := SQLERRM;
        END;
        BEGIN
            EXECUTE format('SELECT @extschema@.gg_fit(p.profile, $1, ''week'') FROM %I.profiles p', t)
                INTO g USING as_of;
        EXCEPTION WHEN OTHERS THEN
            gerr := SQLERRM;
        END;
    END;
    gap := coalesce((s->>'population_gap_days')::float8, gap, 30);
    IF merr IS NOT NULL OR gerr IS NOT NULL THEN
        RAISE WARNING 'clm: tracked source "%": %', r.name,
            concat_ws('; ', 'purchase model not fitted: ' || merr, 'spend model not fitted: ' || gerr)
            USING HINT = 'p_alive, churn_probability, expected purchases, expected_spend and clv stay NULL until a refit succeeds.';
    END IF;
    EXECUTE format('DELETE FROM %I.clm_fit', t);
    EXECUTE format('INSERT INTO %I.clm_fit VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8)', t)
        USING as_of, extract(epoch FROM clock_timestamp() - started), m, merr, g, gerr, bp, gap;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_refit(@extschema@.tracked_source, date) IS 'internal: refits the models and recomputes the RFM breakpoints and population gap of a tracked source';

-- The relations of a tracked source's schema that readers see, in refresh order.
CREATE FUNCTION @extschema@.track_views(with_customers boolean)
    RETURNS text[] LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE WHEN with_customers THEN ARRAY['customers'] ELSE '{}'::text[] END
           || ARRAY['stage_counts_daily', 'lifecycle_weekly', 'cohort_retention_monthly',
                    'stage_transitions', 'segment_summary', 'models']
$fn$;
COMMENT ON FUNCTION @extschema@.track_views(boolean) IS 'internal: the materialised views of a tracked source (and the customers table), in refresh order';

-- Refreshes the population materialised views of a tracked source.
CREATE FUNCTION @extschema@.track_refresh_views(t name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    v text;
BEGIN
    FOREACH v IN ARRAY @extschema@.track_views(false) LOOP
        EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', t, v);
    END LOOP;
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_refresh_views(name) IS 'internal: REFRESH MATERIALIZED VIEW CONCURRENTLY of each population view of a tracked source';

-- Recomputes every row of the customers table.
CREATE FUNCTION @extschema@.track_customers_all(r @extschema@.tracked_source)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
BEGIN
    EXECUTE format('DELETE FROM %I.customers', r.target_schema);
    EXECUTE format('INSERT INTO %I.customers %s', r.target_schema,
                   @extschema@.track_customers_sql(format('%I.profiles', r.target_schema), r.target_schema, r.settings));
END
$fn$;
COMMENT ON FUNCTION @extschema@.track_customers_all(@extschema@.tracked_source) IS 'internal: recomputes every row of a tracked source''s customers table';

-- The day the views describe: the fixed as_of setting or today in the source's zone.
CREATE FUNCTION @extschema@.track_as_of(s jsonb)
    RETURNS date LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce((s->>'as_of')::date, (now() AT TIME ZONE (s->>'time_zone'))::date)
$fn$;
COMMENT ON FUNCTION @extschema@.track_as_of(jsonb) IS 'internal: the as_of day of a tracked source (the as_of setting, else today in its time_zone)';

-- Full rebuild of the profiles and customers; the caller holds the lock.
CREATE FUNCTION @extschema@.rebuild_internal(source_name text, creating boolean)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    old_tz text := current_setting('TimeZone');
    res @extschema@.refresh_result;
    n bigint;
    ev bigint;
BEGIN
    PERFORM set_config('TimeZone', r.settings->>'time_zone', true);
    EXECUTE format('DELETE FROM %I.profiles', t);
    -- the queue is emptied in the same statement (same snapshot) that reads the source,
    -- so every event of a committed transaction is counted exactly once; src
    -- is read once (not materialised), the events counted from the profiles
    EXECUTE format($q$
WITH %s
src AS (SELECT %I AS customer_id, %s AS profile
          FROM %s
         WHERE %I IS NOT NULL AND %I IS NOT NULL AND (%s)
         GROUP BY 1),
ins AS (INSERT INTO %I.profiles (customer_id, profile, changed_at)
        SELECT customer_id, profile, now() FROM src
        RETURNING @extschema@.event_count(profile) AS events)
SELECT count(*), coalesce(sum(events), 0) FROM ins$q$,
        CASE WHEN r.incremental THEN format('gone AS (DELETE FROM %I.clm_pending),', t) ELSE '' END,
        r.customer_column, @extschema@.track_profile_sql(r, false), r.source,
        r.customer_column, r.time_column, coalesce(r.filter, 'true'), t)
        INTO n, ev;
    PERFORM @extschema@.track_refit(r, @extschema@.track_as_of(r.settings));
    PERFORM @extschema@.track_customers_all(r);
    IF NOT creating THEN
        PERFORM @extschema@.track_refresh_views(t);
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);
    UPDATE @extschema@.tracked_source ts
       SET last_rebuild = now(), last_rebuild_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refit = now(), last_views_refresh = CASE WHEN creating THEN last_views_refresh ELSE now() END,
           customers = n, refreshes = refreshes + 1,
           last_refresh = now(), last_refresh_action = 'rebuild',
           last_refresh_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refresh_events = ev, last_refresh_customers = n
     WHERE ts.name = source_name;
    res := ROW(source_name, 'rebuild', ev, n, n, true, NOT creating,
               extract(epoch FROM clock_timestamp() - now()));
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION @extschema@.rebuild_internal(text, boolean) IS 'internal: the full rebuild of a tracked source (caller holds the refresh lock)';

-- Full rebuild from the source: for deletions, corrections and changed time zones.
CREATE FUNCTION @extschema@.rebuild(source_name text, wait boolean DEFAULT true)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM @extschema@.track_lookup(source_name);
    IF NOT @extschema@.track_lock(source_name, wait) THEN
        RAISE NOTICE 'clm.rebuild: source "%" is being refreshed by another session; skipped', source_name;
        RETURN ROW(source_name, 'skipped', 0, 0, NULL, false, false, 0)::@extschema@.refresh_result;
    END IF;
    RETURN @extschema@.rebuild_internal(source_name, false);
END
$fn$;
COMMENT ON FUNCTION @extschema@.rebuild(text, boolean) IS 'rebuilds a tracked source''s profiles, customers and views from the whole source (after deletions or corrections); wait = false skips with a notice if a refresh is running';

-- Incremental refresh: merges the queued events into the stored profiles.
CREATE FUNCTION @extschema@.refresh(source_name text, refit boolean DEFAULT NULL,
    views boolean DEFAULT NULL, wait boolean DEFAULT false)
    RETURNS @extschema@.refresh_result LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET jit = off
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    s jsonb := r.settings;
    old_tz text;
    today date;
    fit_as_of date;
    fitted timestamptz;
    do_refit boolean;
    do_views boolean;
    ev bigint;
    changed bigint;
    added bigint;
    upd text;
    res @extschema@.refresh_result;
BEGIN
    IF NOT @extschema@.track_lock(source_name, wait) THEN
        RAISE NOTICE 'clm.refresh: source "%" is being refreshed by another session; skipped', source_name
            USING HINT = 'Pass wait => true to wait for it instead.';
        RETURN ROW(source_name, 'skipped', 0, 0, r.customers, false, false, 0)::@extschema@.refresh_result;
    END IF;
    IF NOT r.incremental THEN
        RETURN @extschema@.rebuild_internal(source_name, false);
    END IF;
    EXECUTE format('SELECT op FROM %I.clm_pending WHERE op IS NOT NULL LIMIT 1', t) INTO upd;
    IF upd IS NOT NULL THEN
        RAISE NOTICE 'clm.refresh: % on the source of "%" since the last refresh: rebuilding', upd, source_name;
        RETURN @extschema@.rebuild_internal(source_name, false);
    END IF;

    old_tz := current_setting('TimeZone');
    PERFORM set_config('TimeZone', s->>'time_zone', true);
    today := @extschema@.track_as_of(s);
    EXECUTE format('SELECT as_of, fitted_at FROM %I.clm_fit', t) INTO fit_as_of, fitted;
    do_refit := coalesce(refit, fit_as_of IS DISTINCT FROM today
                                OR now() - fitted >= (s->>'refit_interval')::interval);
    do_views := do_refit OR coalesce(views, r.last_views_refresh IS NULL
                                     OR now() - r.last_views_refresh >= (s->>'views_interval')::interval);

    -- merge the queued events; without a refit, the customers rows of the
    -- changed customers are replaced in the same statement (cust)
    IF NOT do_refit THEN
        SELECT string_agg(format('%I = excluded.%I', a.attname, a.attname), ', ' ORDER BY a.attnum)
          INTO upd
          FROM pg_attribute a
         WHERE a.attrelid = format('%I.customers', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attname <> 'customer_id';
        upd := format($q$,
cust AS (INSERT INTO %I.customers %s
         ON CONFLICT (customer_id) DO UPDATE SET %s
         RETURNING 1)$q$, t, @extschema@.track_customers_sql('up', t, s), upd);
    END IF;
    EXECUTE format($q$
WITH moved AS (DELETE FROM %1$I.clm_pending WHERE op IS NULL RETURNING customer_id, occurred_at, amount, channel),
fresh AS (SELECT customer_id, %2$s AS profile FROM moved GROUP BY 1),
up AS (INSERT INTO %1$I.profiles AS o (customer_id, profile, changed_at)
       SELECT customer_id, profile, now() FROM fresh WHERE profile IS NOT NULL
       ON CONFLICT (customer_id) DO UPDATE
          SET profile = @extschema@.profile_merge(o.profile, excluded.profile), changed_at = excluded.changed_at
       RETURNING o.customer_id, o.profile, o.changed_at, (o.xmax = 0) AS inserted)%3$s
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM up), (SELECT count(*) FROM up WHERE inserted)$q$,
        t, @extschema@.track_profile_sql(r, true), coalesce(upd, ''))
        INTO ev, changed, added;
    IF do_refit THEN
        -- then recompute the population parameters and every customers row
        PERFORM @extschema@.track_refit(r, today);
        PERFORM @extschema@.track_customers_all(r);
    END IF;
    IF do_views THEN
        PERFORM @extschema@.track_refresh_views(t);
    END IF;
    PERFORM set_config('TimeZone', old_tz, true);

    UPDATE @extschema@.tracked_source ts
       SET refreshes = refreshes + 1, last_refresh = now(), last_refresh_action = 'incremental',
           last_refresh_seconds = extract(epoch FROM clock_timestamp() - now()),
           last_refresh_events = ev, last_refresh_customers = changed,
           customers = coalesce(ts.customers, 0) + added,
           last_refit = CASE WHEN do_refit THEN now() ELSE last_refit END,
           last_views_refresh = CASE WHEN do_views THEN now() ELSE last_views_refresh END
     WHERE ts.name = source_name
    RETURNING ts.customers INTO res.customers;
    res.name := source_name;
    res.action := 'incremental';
    res.events := ev;
    res.customers_changed := changed;
    res.refit := do_refit;
    res.views_refreshed := do_views;
    res.seconds := extract(epoch FROM clock_timestamp() - now());
    RETURN res;
END
$fn$;
COMMENT ON FUNCTION @extschema@.refresh(text, boolean, boolean, boolean) IS 'merges the events inserted since the last refresh into the stored profiles and updates the customers rows; refits (refit_interval) and refreshes the materialised views CONCURRENTLY (views_interval) when due or when asked; wait = false skips with a notice if another session is refreshing the source';

-- Gives a role read access to the views of a tracked source.
CREATE FUNCTION @extschema@.grant_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    v text;
BEGIN
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.grant_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, reader);
    FOREACH v IN ARRAY @extschema@.track_views(true) LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO %I', r.target_schema, v, reader);
    END LOOP;
    UPDATE @extschema@.tracked_source ts SET readers = array_append(array_remove(readers, reader), reader)
     WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.grant_reader(text, name) IS 'gives a role SELECT on the customers table and the materialised views of a tracked source (and USAGE on its schema), nothing more';

-- Takes the read access of a role away again.
CREATE FUNCTION @extschema@.revoke_reader(source_name text, reader name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    v text;
BEGIN
    IF reader IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        RAISE EXCEPTION 'clm.revoke_reader: role "%" does not exist', reader USING ERRCODE = '42704';
    END IF;
    FOREACH v IN ARRAY @extschema@.track_views(true) LOOP
        EXECUTE format('REVOKE SELECT ON %I.%I FROM %I', r.target_schema, v, reader);
    END LOOP;
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', r.target_schema, reader);
    UPDATE @extschema@.tracked_source ts SET readers = array_remove(readers, reader) WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.revoke_reader(text, name) IS 'takes back what clm.grant_reader gave a role';

-- Lets a role that writes to the source (granted after clm.track) feed the queue.
CREATE FUNCTION @extschema@.grant_writer(source_name text, writer name)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
BEGIN
    IF NOT r.incremental THEN
        RETURN;
    END IF;
    IF writer IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = writer) THEN
        RAISE EXCEPTION 'clm.grant_writer: role "%" does not exist', writer USING ERRCODE = '42704';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', r.target_schema, writer);
    EXECUTE format('GRANT INSERT ON %I.clm_pending TO %I', r.target_schema, writer);
END
$fn$;
COMMENT ON FUNCTION @extschema@.grant_writer(text, name) IS 'lets a role write to a tracked source: its inserts fire the capture trigger, which needs INSERT on the queue table (clm.track grants it to the roles that could write to the source at the time)';

-- Removes what clm.track created, and nothing else.
CREATE FUNCTION @extschema@.untrack(source_name text)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    t name := r.target_schema;
    tag text := left(md5(r.name), 12);
    v text;
BEGIN
    PERFORM @extschema@.track_lock(source_name, true);
    IF r.incremental AND to_regclass(r.source::text) IS NOT NULL THEN
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_capture_' || tag, r.source);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'clm_invalidate_' || tag, r.source);
    END IF;
    FOREACH v IN ARRAY ARRAY['models', 'segment_summary', 'stage_transitions', 'cohort_retention_monthly',
                             'lifecycle_weekly', 'stage_counts_daily'] LOOP
        EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %I.%I', t, v);
    END LOOP;
    EXECUTE format('DROP TABLE IF EXISTS %I.customers, %I.clm_fit, %I.profiles', t, t, t);
    IF r.incremental THEN
        -- a view or foreign table source has no queue and no trigger functions
        EXECUTE format('DROP TABLE IF EXISTS %I.clm_pending', t);
        EXECUTE format('DROP FUNCTION IF EXISTS %I.clm_capture(), %I.clm_invalidate()', t, t);
    END IF;
    IF r.created_schema THEN
        BEGIN
            EXECUTE format('DROP SCHEMA IF EXISTS %I', t);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'clm.untrack: schema "%" is not empty: kept', t;
        END;
    END IF;
    DELETE FROM @extschema@.tracked_source ts WHERE ts.name = source_name;
END
$fn$;
COMMENT ON FUNCTION @extschema@.untrack(text) IS 'removes the triggers, tables, views and functions clm.track created for a source (and its schema if clm.track created it and it is left empty); fails, changing nothing, if other objects depend on them';

-- Events waiting in the queue of a tracked source.
CREATE FUNCTION @extschema@.pending_events(source_name text)
    RETURNS bigint LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source := @extschema@.track_lookup(source_name);
    n bigint;
BEGIN
    IF NOT r.incremental THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.clm_pending WHERE op IS NULL', r.target_schema) INTO n;
    RETURN n;
END
$fn$;
COMMENT ON FUNCTION @extschema@.pending_events(text) IS 'events inserted into a tracked source and not yet merged by clm.refresh (NULL for a source that every refresh rebuilds)';

CREATE VIEW @extschema@.tracked_sources AS
SELECT name, source, target_schema, owner, incremental, customers,
       last_refresh, last_refresh_action, last_refresh_seconds, last_refresh_events, last_refresh_customers,
       last_rebuild, last_rebuild_seconds, last_refit, last_views_refresh, refreshes, readers,
       customer_column, time_column, amount_column, channel_column, filter, settings, created_at
  FROM @extschema@.tracked_source;
COMMENT ON VIEW @extschema@.tracked_sources IS 'the tracked sources with their last refresh, row counts and timings (clm.pending_events(name) counts the events waiting)';
GRANT SELECT ON @extschema@.tracked_sources TO PUBLIC;
