-- Channel preference (src/channel.c; definitions in docs/journey.md).

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
