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
