
-- 0.1 -> 0.2, core (the upgrade helper's part).
--
-- clm.rfm_map_check: its text || integer concatenations now cast the number
-- to text, so that they resolve to pg_catalog.textcat alone (text ||
-- anynonarray, a polymorphic operator, could be captured by an exact-typed
-- operator in a schema another role can write to: see docs/upgrading.md,
-- "Trusted install").  Re-created rather than replaced (no CREATE OR REPLACE
-- in the scripts), which also re-resolves a body that 0.1 parsed.
DROP FUNCTION @extschema@.rfm_map_check(text, integer);
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

-- The role that installed clm manages the segment maps (a database owner in
-- a trusted install, where the table belongs to the bootstrap superuser).
GRANT INSERT, UPDATE, DELETE ON @extschema@.rfm_segment_map TO @extowner@;
