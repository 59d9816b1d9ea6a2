-- RFM: breakpoints (tie-aware quantiles or fixed thresholds), scores,
-- segment maps as data (src/rfm.c; docs/rfm.md).

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
-- the role that installs clm manages the maps (a database owner in a trusted
-- install, where the table belongs to the bootstrap superuser)
GRANT INSERT, UPDATE, DELETE ON @extschema@.rfm_segment_map TO @extowner@;

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
               'rules of equal priority ' || pg_catalog.min(v.priority)::text || ' give different segments; the lowest rule_id fires'
          FROM cover AS v
         WHERE v.rk = 1
         GROUP BY v.r, v.f, v.m
        HAVING pg_catalog.count(DISTINCT v.segment) > 1
        UNION ALL
        SELECT 3, 'dead rule', NULL, NULL, NULL,
               ARRAY[x.rule_id], ARRAY[x.segment],
               CASE WHEN x.r_min > LEAST(x.r_max, rfm_map_check.n) OR x.f_min > LEAST(x.f_max, rfm_map_check.n)
                         OR x.m_min > LEAST(x.m_max, rfm_map_check.n)
                    THEN 'empty range: the rule covers no cell for n = ' || rfm_map_check.n::text
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
