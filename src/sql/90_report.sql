-- Reports: clm.report(name) returns one self-contained HTML page (inline CSS
-- and SVG, no script, nothing fetched) drawn from a tracked source's customers
-- table and materialised views; clm.report_profiles draws the same page from a
-- table of profiles, without a tracked source.
--
-- Every section is one function reading the relations it is given with the
-- caller's privileges (no SECURITY DEFINER): a role sees in the report what it
-- may SELECT, and nothing else.  Every string taken from the data (customer ids,
-- segment and stage names, titles, error messages) goes through clm.html_escape.
-- Numbers are formatted with to_char patterns using "," and "." (not the
-- locale's G and D), so the page is the same whatever lc_numeric says.
--
-- Parallel labels: the helpers that only format are PARALLEL SAFE; the
-- functions that run queries of their own are PARALLEL RESTRICTED (run by
-- the leader: in a worker their queries could use no worker of their own and
-- could not read the temporary tables of clm.report_profiles), and
-- clm.report_profiles, which makes temporary tables, PARALLEL UNSAFE.

-- The small helpers called for every cell of a chart are SQL-standard bodies
-- (RETURN ...: names bound when the extension is created, no search_path to
-- pin), which the planner inlines; a function with a SET clause is never
-- inlined, and costs a configuration save and restore per call.

-- HTML (and XML) escaping of a text.
CREATE FUNCTION @extschema@.html_escape(s text)
    RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
COMMENT ON FUNCTION @extschema@.html_escape(text) IS 'the text with & < > " and '' replaced by HTML character references (safe in HTML and XML text and quoted attributes)';

-- A number for display: thousands separated by ",", a fixed number of decimals.
CREATE FUNCTION @extschema@.report_num(x double precision, decimals integer DEFAULT 0)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE
        WHEN x IS NULL THEN '&#8211;'
        WHEN x = 'NaN'::float8 OR x = 'Infinity'::float8 OR x = '-Infinity'::float8 THEN 'n/a'
        WHEN pg_catalog.abs(x) >= 1e15 THEN x::text
        ELSE pg_catalog.to_char(pg_catalog.round(x::numeric, LEAST(GREATEST(COALESCE(decimals, 0), 0), 6)),
                     'FM999,999,999,999,990' OPERATOR(pg_catalog.||)
                     CASE WHEN COALESCE(decimals, 0) > 0
                          THEN '.' OPERATOR(pg_catalog.||) pg_catalog.repeat('0', LEAST(decimals, 6)) ELSE '' END)
    END;
COMMENT ON FUNCTION @extschema@.report_num(double precision, integer) IS 'internal: a number as the report shows it (1,234.5; "n/a" for NaN and infinities; an en dash for NULL), independent of lc_numeric';

-- A coordinate for SVG: one decimal, always a "." (numeric output).
CREATE FUNCTION @extschema@.report_px(x double precision)
    RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.round(x::numeric, 1)::text;
COMMENT ON FUNCTION @extschema@.report_px(double precision) IS 'internal: an SVG coordinate (one decimal)';

-- A round axis step (1, 2 or 5 times a power of ten) near a rough step.
CREATE FUNCTION @extschema@.report_step(rough double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT CASE WHEN NOT (rough > 0) OR rough = 'Infinity'::float8 OR rough = 'NaN'::float8 THEN 1
                ELSE (SELECT CASE WHEN m <= 1 THEN 1 WHEN m <= 2 THEN 2 WHEN m <= 5 THEN 5 ELSE 10 END * e
                        FROM (SELECT rough / e AS m, e
                                FROM (SELECT power(10::float8, floor(log(rough))) AS e) a) b)
           END
$fn$;
COMMENT ON FUNCTION @extschema@.report_step(double precision) IS 'internal: the axis step of 1, 2 or 5 times a power of ten at or above a rough step';

-- The gridlines and labels of a vertical value axis.
CREATE FUNCTION @extschema@.report_yaxis(lo double precision, hi double precision, step double precision,
    x0 double precision, x1 double precision, y_lo double precision, y_hi double precision,
    decimals integer, right_side boolean DEFAULT false, scale double precision DEFAULT 1)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT coalesce(string_agg(format('<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="%s">%s</text>',
                                      CASE WHEN right_side THEN 'axisline' ELSE 'grid' END,
                                      @extschema@.report_px(CASE WHEN right_side THEN x1 ELSE x0 END), @extschema@.report_px(y),
                                      @extschema@.report_px(CASE WHEN right_side THEN x1 + 4 ELSE x1 END), @extschema@.report_px(y),
                                      @extschema@.report_px(CASE WHEN right_side THEN x1 + 6 ELSE x0 - 6 END),
                                      @extschema@.report_px(y + 4), CASE WHEN right_side THEN 'start' ELSE 'end' END,
                                      @extschema@.report_num(abs(v) * scale, decimals)), ''), '')
      FROM (SELECT v, y_lo + (v - lo) / nullif(hi - lo, 0) * (y_hi - y_lo) AS y
              FROM generate_series(0, least(floor((hi - lo) / step + 1e-9)::int, 50)) i,
                   LATERAL (SELECT lo + i * step AS v) s) g
$fn$;
COMMENT ON FUNCTION @extschema@.report_yaxis(double precision, double precision, double precision, double precision, double precision, double precision, double precision, integer, boolean, double precision) IS 'internal: gridlines (or, on the right side, tick marks at x1) and tick labels of a value axis from lo to hi by step, drawn from y_lo to y_hi between x0 and x1; labels show |value| x scale';

-- The opening of a chart: an SVG image with its title, and the figure around it.
CREATE FUNCTION @extschema@.report_svg(id text, width integer, height integer, title text, body text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format('<svg class="chart" id="%1$s-svg" viewBox="0 0 %2$s %3$s" width="%2$s" height="%3$s" role="img" aria-labelledby="%1$s-title"><title id="%1$s-title">%4$s</title>%5$s</svg>',
                  id, width, height, title, body)
$fn$;
COMMENT ON FUNCTION @extschema@.report_svg(text, integer, integer, text, text) IS 'internal: an inline SVG chart with an accessible title (title must be escaped already)';

-- The style sheet: light and dark colour schemes, print.
CREATE FUNCTION @extschema@.report_style()
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT $css$
:root { color-scheme: light dark;
  --bg: #ffffff; --fg: #1d2330; --muted: #5b6474; --grid: #dfe3ea; --panel: #f5f7fa; --border: #d5dae2;
  --new: #2e8b57; --returning: #2f6fb0; --resurrecting: #d99a1e; --dormant: #c8434f; --pulse: #6a3d9a;
  --actual: #2f6fb0; --predicted: #d95f02; --bar: #2f6fb0;
  --s0: #9aa3b2; --s1: #8c6bb1; --s2: #2e8b57; --s3: #2f6fb0; --s4: #17a2b8; --s5: #d99a1e; --s6: #e8684a; --s7: #8a1c2b; --s8: #777777; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --fg: #e6e9ef; --muted: #a3abb9; --grid: #343a45; --panel: #1d2129; --border: #3a404c;
    --new: #4cc38a; --returning: #5b9be0; --resurrecting: #f0b640; --dormant: #ef6b76; --pulse: #c39bf0;
    --actual: #5b9be0; --predicted: #ff9a4d; --bar: #5b9be0;
    --s0: #8a93a2; --s1: #b294e0; --s2: #4cc38a; --s3: #5b9be0; --s4: #3fc7dc; --s5: #f0b640; --s6: #ff8a6e; --s7: #e05a6b; --s8: #9a9a9a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 24px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 0 0 6px; } h3 { font-size: 15px; margin: 12px 0 4px; }
header p, .note { color: var(--muted); margin: 2px 0; }
section { margin: 26px 0; padding: 16px 18px; background: var(--panel); border: 1px solid var(--border); border-radius: 8px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 10px 0 0; }
.kpis div { background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; }
.kpis dt { color: var(--muted); font-size: 12px; } .kpis dd { margin: 2px 0 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
svg.chart text { fill: var(--fg); font-size: 11px; font-family: inherit; }
svg.chart text.tick { fill: var(--muted); font-size: 10px; }
svg.chart text.axis { font-size: 12px; font-weight: 600; }
svg.chart text.cell { font-size: 10px; }
svg.chart text.on-dark { fill: #ffffff; }
svg.chart text.on-light { fill: #1d2330; }
svg.chart .grid { stroke: var(--grid); stroke-width: 1; }
svg.chart .axisline { stroke: var(--muted); stroke-width: 1; }
.c-new { fill: var(--new); } .c-returning { fill: var(--returning); } .c-resurrecting { fill: var(--resurrecting); }
.c-dormant { fill: var(--dormant); } .c-bar { fill: var(--bar); } .c-actual { fill: var(--actual); }
.l-pulse { fill: none; stroke: var(--pulse); stroke-width: 2; } .d-pulse { fill: var(--pulse); }
.l-predicted { fill: none; stroke: var(--predicted); stroke-width: 2; } .d-predicted { fill: var(--predicted); }
.s0 { fill: var(--s0); } .s1 { fill: var(--s1); } .s2 { fill: var(--s2); } .s3 { fill: var(--s3); } .s4 { fill: var(--s4); }
.s5 { fill: var(--s5); } .s6 { fill: var(--s6); } .s7 { fill: var(--s7); } .s8 { fill: var(--s8); }
path.link { fill-opacity: 0.38; } path.link:hover { fill-opacity: 0.6; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--border); text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tbody th[scope="row"] { white-space: nowrap; }
caption { text-align: left; color: var(--muted); padding: 2px 0 4px; }
.share { display: inline-block; height: 8px; background: var(--bar); margin-right: 6px; vertical-align: middle; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted: #333333; --panel: #ffffff; --border: #999999; --grid: #cccccc; }
  body { max-width: none; padding: 0; font-size: 11px; }
  section { break-inside: avoid; page-break-inside: avoid; border: none; padding: 0; margin: 14px 0; }
  .kpis div { border: 1px solid #999999; }
  path.link { fill-opacity: 0.45; }
}
$css$
$fn$;
COMMENT ON FUNCTION @extschema@.report_style() IS 'internal: the style sheet of clm.report (light and dark colour schemes, print)';

-- The colour class of a lifecycle stage, and its place in the flow diagram.
CREATE FUNCTION @extschema@.report_stage_order(stage text)
    RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE stage WHEN 'none' THEN 0 WHEN 'prospect' THEN 1 WHEN 'new' THEN 2 WHEN 'active' THEN 3
                  WHEN 'reactivated' THEN 4 WHEN 'at_risk' THEN 5 WHEN 'lapsed' THEN 6
                  WHEN 'churned' THEN 7 ELSE 8 END;
COMMENT ON FUNCTION @extschema@.report_stage_order(text) IS 'internal: the order of the lifecycle stages in the report (0 none ... 7 churned, 8 anything else); also their colour class s0 .. s8';

-- A section of the page: heading, content.
CREATE FUNCTION @extschema@.report_section(id text, heading text, content text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT format(E'<section id="%1$s" aria-labelledby="%1$s-h">\n<h2 id="%1$s-h">%2$s</h2>\n%3$s\n</section>\n', id, heading, content)
$fn$;
COMMENT ON FUNCTION @extschema@.report_section(text, text, text) IS 'internal: one section of the report (heading and content must be escaped already)';

-- The CLV histogram's bin edges: 1, 2 and 5 per decade (CLV is heavy-tailed).
CREATE FUNCTION @extschema@.report_clv_edges()
    RETURNS double precision[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY[0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5,
             1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8, 2e8, 5e8, 1e9, 2e9, 5e9, 1e10, 1e11, 1e12]::double precision[];
COMMENT ON FUNCTION @extschema@.report_clv_edges() IS 'internal: the lower edges of the CLV histogram bins of clm.report (1, 2, 5 per decade; below 0 is one more bin)';

-- Everything the report needs of the customers table but the top customers,
-- from one scan: one hashed aggregation by (R, F, segment, stage, CLV bin,
-- P(alive) bin), a few thousand groups, which the headline sums, both
-- histograms and the RFM cells then roll up (every aggregate once a row;
-- grouping sets would compute each of them once a row for every set).
CREATE FUNCTION @extschema@.report_customers_pass(customers regclass)
    RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    out jsonb;
BEGIN
    EXECUTE format($q$
WITH c AS (
    SELECT c.stage::text AS stage, c.expected_purchases_90d AS p90, c.expected_spend AS es, c.clv, c.p_alive,
           c.orders, c.r_score, c.f_score, c.rfm_segment::text AS seg,
           CASE WHEN c.clv > '-Infinity' AND c.clv < 'Infinity' THEN width_bucket(c.clv, $1) END AS cb,
           CASE WHEN c.p_alive BETWEEN 0 AND 1 THEN least(greatest(width_bucket(c.p_alive, 0, 1, 20), 1), 20) END AS pb
      FROM %s c),
g AS (
    SELECT r_score, f_score, seg, stage, cb, pb, count(*) AS n,
           sum(p90) AS p90, sum(p90 * es) AS rev, sum(clv) AS clv,
           sum(clv) FILTER (WHERE cb IS NOT NULL) AS clv_fin, min(clv) FILTER (WHERE cb IS NOT NULL) AS clv_min,
           count(*) FILTER (WHERE orders > 0 AND cb IS NULL) AS clv_missing,
           sum(p_alive) FILTER (WHERE pb IS NOT NULL) AS palive
      FROM c
     GROUP BY r_score, f_score, seg, stage, cb, pb)
SELECT jsonb_build_object(
    'headline', (SELECT jsonb_build_object('customers', coalesce(sum(n), 0),
                                           'active', coalesce(sum(n) FILTER (WHERE stage IN ('new', 'active', 'reactivated')), 0),
                                           'at_risk', coalesce(sum(n) FILTER (WHERE stage = 'at_risk'), 0),
                                           'lapsed', coalesce(sum(n) FILTER (WHERE stage = 'lapsed'), 0),
                                           'churned', coalesce(sum(n) FILTER (WHERE stage = 'churned'), 0),
                                           'prospects', coalesce(sum(n) FILTER (WHERE stage = 'prospect'), 0),
                                           'purchases_90d', sum(p90), 'revenue_90d', sum(rev), 'total_clv', sum(clv),
                                           'clv_n', coalesce(sum(n) FILTER (WHERE cb IS NOT NULL), 0),
                                           'clv_mean', sum(clv_fin) / sum(n) FILTER (WHERE cb IS NOT NULL),
                                           'clv_min', min(clv_min), 'clv_missing', coalesce(sum(clv_missing), 0),
                                           'palive_n', coalesce(sum(n) FILTER (WHERE pb IS NOT NULL), 0),
                                           'palive_mean', sum(palive) / sum(n) FILTER (WHERE pb IS NOT NULL))
                   FROM g),
    'clv', (SELECT coalesce(jsonb_object_agg(cb, n), '{}') FROM (SELECT cb, sum(n) AS n FROM g WHERE cb IS NOT NULL GROUP BY cb) x),
    'palive', (SELECT coalesce(jsonb_object_agg(pb, n), '{}') FROM (SELECT pb, sum(n) AS n FROM g WHERE pb IS NOT NULL GROUP BY pb) x),
    'rfm', (SELECT coalesce(jsonb_agg(jsonb_build_array(r_score, f_score, seg, n)), '[]')
              FROM (SELECT r_score, f_score, seg, sum(n) AS n FROM g
                     WHERE r_score IS NOT NULL AND f_score IS NOT NULL GROUP BY 1, 2, 3) x))
$q$, customers) INTO out USING @extschema@.report_clv_edges();
    RETURN out;
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_customers_pass(regclass) IS 'internal: the aggregates clm.report needs of a customers table, from one scan (headline sums, CLV and P(alive) bins, RFM cells by segment), as jsonb';

-- Headline figures: customers by stage, expected purchases and revenue, CLV, the models.
CREATE FUNCTION @extschema@.report_headline(stats jsonb, models regclass, horizon_weeks integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    h jsonb := stats->'headline';
    m record;
    kpis text := '';
    notes text := '';
    k record;
BEGIN
    FOR k IN SELECT * FROM (VALUES
        (1, 'customers', 'Customers', 'customers in the table (count)'),
        (2, 'active', 'Active', 'stage new, active or reactivated (count)'),
        (3, 'at_risk', 'At risk', 'stage at_risk: overdue by their own rhythm, not yet lapsed (count)'),
        (4, 'lapsed', 'Lapsed', 'stage lapsed: overdue beyond the at_risk window, not yet churned (count)'),
        (5, 'churned', 'Churned', 'stage churned (count)'),
        (6, 'prospects', 'Prospects', 'stage prospect: activity, no purchase yet (count)'),
        (7, 'purchases_90d', 'Expected purchases, next 90 days', 'sum of expected_purchases_90d (purchase days)'),
        (8, 'revenue_90d', 'Expected revenue, next 90 days', 'sum of expected_purchases_90d x expected_spend (currency units)'),
        (9, 'total_clv', format('Total CLV, %s weeks', horizon_weeks), 'sum of clv (currency units)')
    ) v(i, id, label, doc) ORDER BY i LOOP
        kpis := kpis || format(E'<div><dt title="%s">%s</dt><dd id="kpi-%s" data-value="%s">%s</dd></div>\n',
                               k.doc, @extschema@.html_escape(k.label), k.id,
                               CASE WHEN jsonb_typeof(h->k.id) = 'number' THEN h->>k.id ELSE '' END,
                               @extschema@.report_num(CASE WHEN jsonb_typeof(h->k.id) = 'number' THEN (h->>k.id)::float8 END, 0));
    END LOOP;
    IF models IS NOT NULL THEN
        FOR m IN EXECUTE format($q$
SELECT m.role, m.kind, m.converged, m.error, m.n_customers,
       (SELECT string_agg(format('%%s = %%s', n, @extschema@.report_num(v, 3)), ', ' ORDER BY o)
          FROM unnest(m.parameter_names, m.parameters) WITH ORDINALITY u(n, v, o)) AS params
  FROM %s m ORDER BY m.role$q$, models) LOOP
            IF m.kind IS NULL THEN
                notes := notes || format(E'<li>%s model not fitted: %s</li>\n', initcap(m.role),
                                         @extschema@.html_escape(coalesce(m.error, 'no model')));
            ELSE
                notes := notes || format(E'<li>%s model %s (%s), %s customers%s</li>\n', initcap(m.role),
                                         @extschema@.html_escape(m.kind), @extschema@.html_escape(m.params),
                                         @extschema@.report_num(m.n_customers, 0),
                                         CASE WHEN m.converged THEN '' ELSE ', <strong>not converged</strong>' END);
            END IF;
        END LOOP;
    END IF;
    RETURN @extschema@.report_section('headline', 'Headline figures',
        format(E'<dl class="kpis">\n%s</dl>\n%s', kpis,
               CASE WHEN notes = '' THEN '' ELSE format(E'<ul class="note">\n%s</ul>', notes) END));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_headline(jsonb, regclass, integer) IS 'internal: the headline figures of clm.report (customers by stage, expected purchases and revenue in 90 days, total CLV; from report_customers_pass) and the fitted models';

-- Lifecycle counts per week: stacked bars, dormant below the axis, pulse line.
CREATE FUNCTION @extschema@.report_lifecycle(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 690; y0 float8 := 44; y1 float8 := 264;
    n integer; pmax float8; dmax float8; qmax float8;
    step float8; top float8; bot float8; qstep float8; qtop float8;
    bw float8; xb float8; every integer;
    r record;
    body text := '';
    line text := '';
    dots text := '';
    rows text := '';
    lastw record;
BEGIN
    EXECUTE format($q$
SELECT count(*), coalesce(max(new_customers + returning_customers + resurrecting_customers), 0),
       coalesce(max(dormant_customers), 0), max(pulse) FILTER (WHERE pulse < 'Infinity')
  FROM %s$q$, rel) INTO n, pmax, dmax, qmax;
    IF n = 0 THEN
        RETURN @extschema@.report_section('lifecycle', 'Lifecycle: customers per week',
                                          '<p class="note">No weeks to show.</p>');
    END IF;
    step := greatest(@extschema@.report_step((pmax + dmax) / 6.0), 1);
    top := greatest(ceil(pmax / step), 1) * step;
    bot := ceil(dmax / step) * step;
    bw := (x1 - x0) / n;
    every := greatest(ceil(n / 7.0)::int, 1);
    body := @extschema@.report_yaxis(-bot, top, step, x0, x1, y1, y0, 0);
    IF qmax IS NOT NULL THEN
        qstep := @extschema@.report_step(qmax / 4.0);
        qtop := greatest(ceil(qmax / qstep), 1) * qstep;
        body := body || @extschema@.report_yaxis(0, qtop, qstep, x0, x1,
                                                 y0 + top / (top + bot) * (y1 - y0), y0,
                                                 CASE WHEN qstep < 1 THEN 1 ELSE 0 END, true);
    END IF;
    FOR r IN EXECUTE format($q$
SELECT (row_number() OVER (ORDER BY week_start) - 1)::int AS i, week_start, new_customers::float8 AS nw,
       returning_customers::float8 AS rt, resurrecting_customers::float8 AS rs, dormant_customers::float8 AS dm,
       active_customers, pulse
  FROM %s ORDER BY week_start$q$, rel) LOOP
        xb := x0 + r.i * bw;
        body := body || format('<g class="week" data-week="%s"><title>week of %s: new %s, returning %s, resurrecting %s, dormant %s, pulse %s</title>',
                               r.week_start, r.week_start, @extschema@.report_num(r.nw), @extschema@.report_num(r.rt),
                               @extschema@.report_num(r.rs), @extschema@.report_num(r.dm), @extschema@.report_num(r.pulse, 2))
            || (SELECT string_agg(format('<rect class="c-%s" x="%s" y="%s" width="%s" height="%s"/>', cls,
                                         @extschema@.report_px(xb + bw * 0.12),
                                         @extschema@.report_px(y0 + (top - hi) / (top + bot) * (y1 - y0)),
                                         @extschema@.report_px(bw * 0.76),
                                         @extschema@.report_px((hi - lo) / (top + bot) * (y1 - y0))), '' ORDER BY o)
                  FROM (VALUES (1, 'new', 0, r.nw), (2, 'returning', r.nw, r.nw + r.rt),
                               (3, 'resurrecting', r.nw + r.rt, r.nw + r.rt + r.rs), (4, 'dormant', -r.dm, 0)) s(o, cls, lo, hi)
                 WHERE hi > lo)
            || '</g>';
        IF r.i % every = 0 THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                                   @extschema@.report_px(xb + bw / 2), @extschema@.report_px(y1 + 18), to_char(r.week_start, 'YYYY-MM-DD'));
        END IF;
        IF r.pulse IS NOT NULL AND r.pulse < 'Infinity' AND qtop IS NOT NULL THEN
            line := line || format('%s,%s ', @extschema@.report_px(xb + bw / 2),
                                   @extschema@.report_px(y0 + (top - r.pulse / qtop * top) / (top + bot) * (y1 - y0)));
            dots := dots || format('<circle class="d-pulse" cx="%s" cy="%s" r="2"/>', @extschema@.report_px(xb + bw / 2),
                                   @extschema@.report_px(y0 + (top - r.pulse / qtop * top) / (top + bot) * (y1 - y0)));
        END IF;
        rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.week_start, r.nw, r.rt, r.rs, r.dm, r.active_customers, @extschema@.report_num(r.pulse, 2));
        lastw := r;
    END LOOP;
    IF line <> '' THEN
        body := body || format('<polyline class="l-pulse" points="%s"/>', rtrim(line)) || dots;
    END IF;
    body := body
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0,
                  @extschema@.report_px(y0 + top / (top + bot) * (y1 - y0)), x1, @extschema@.report_px(y0 + top / (top + bot) * (y1 - y0)))
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">week starting (date)</text>', (x0 + x1) / 2, y1 + 34)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">customers (count)</text>', (y0 + y1) / 2)
        || CASE WHEN qtop IS NULL THEN '' ELSE
           format('<text class="axis" transform="translate(744,%s) rotate(90)" text-anchor="middle">pulse ratio</text>', (y0 + y1) / 2) END
        || (SELECT string_agg(format('<rect class="%s" x="%s" y="12" width="12" height="12"/><text x="%s" y="22">%s</text>', cls, lx, lx + 16, lab), '' ORDER BY lx)
              FROM (VALUES ('c-new', 70, 'new'), ('c-returning', 150, 'returning'), ('c-resurrecting', 250, 'resurrecting'),
                           ('c-dormant', 365, 'dormant (below the axis)'), ('d-pulse', 540, 'pulse ratio (right axis)')) l(cls, lx, lab));
    RETURN @extschema@.report_section('lifecycle', 'Lifecycle: customers per week',
        format(E'<figure>\n%s\n<figcaption class="note">Customers with any event in the week: new (first event ever), returning (active the week before too), resurrecting (inactive the week before, active earlier) above the axis; dormant (active the week before, not in this week) below. Pulse = (new + resurrecting) / dormant; above 1 the active base grows. Last week shown (%s, the last whole week): pulse %s.</figcaption>\n</figure>\n<table class="sr-only"><caption>Lifecycle counts per week (the data of the chart)</caption><thead><tr><th scope="col">week starting</th><th scope="col">new</th><th scope="col">returning</th><th scope="col">resurrecting</th><th scope="col">dormant</th><th scope="col">active</th><th scope="col">pulse</th></tr></thead><tbody>\n%s</tbody></table>',
               @extschema@.report_svg('lifecycle', 760, 320, 'Lifecycle counts per week: new, returning and resurrecting customers above the axis, dormant below, with the pulse ratio', body),
               lastw.week_start, @extschema@.report_num(lastw.pulse, 2), rows));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_lifecycle(regclass) IS 'internal: the lifecycle section of clm.report (stacked weekly bars from a relation shaped like lifecycle_weekly)';

-- Cohort retention heatmap.
CREATE FUNCTION @extschema@.report_cohorts(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 150; y0 float8 := 58;
    nrow integer; ncol integer; cw float8; ch float8 := 18; every integer;
    height integer;
    r record;
    body text := '';
    rows text := '';
BEGIN
    EXECUTE format('SELECT count(DISTINCT cohort), coalesce(max(month_offset), -1) + 1 FROM %s', rel) INTO nrow, ncol;
    IF nrow = 0 THEN
        RETURN @extschema@.report_section('cohorts', 'Cohort retention by month',
                                          '<p class="note">No cohort with a complete month yet.</p>');
    END IF;
    cw := least(32, 580.0 / ncol);
    every := greatest(ceil(ncol / 12.0)::int, 1);
    height := (y0 + nrow * ch + 60)::int;
    FOR r IN SELECT i FROM generate_series(0, ncol - 1) i WHERE i % every = 0 LOOP
        body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                               @extschema@.report_px(x0 + r.i * cw + cw / 2), y0 - 6, r.i);
    END LOOP;
    FOR r IN EXECUTE format($q$
SELECT cohort, month_offset, cohort_customers, retained_customers, retention_rate,
       (dense_rank() OVER (ORDER BY cohort) - 1)::int AS i,
       month_offset = min(month_offset) OVER (PARTITION BY cohort) AS first_cell,
       96 - 58 * least(greatest(coalesce(retention_rate, 0), 0), 1) AS light
  FROM %s ORDER BY cohort, month_offset$q$, rel) LOOP
        IF r.first_cell THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="end">%s (%s)</text>', x0 - 6,
                                   @extschema@.report_px(y0 + r.i * ch + ch / 2 + 4), to_char(r.cohort, 'YYYY-MM'),
                                   @extschema@.report_num(r.cohort_customers));
        END IF;
        body := body || format('<g class="hm" data-cohort="%s" data-offset="%s" data-rate="%s"><title>cohort %s, month %s: %s of %s customers bought (%s%%)</title><rect x="%s" y="%s" width="%s" height="%s" fill="hsl(212,65%%,%s%%)"/>%s</g>',
                               r.cohort, r.month_offset, coalesce(r.retention_rate::text, ''),
                               to_char(r.cohort, 'YYYY-MM'), r.month_offset, @extschema@.report_num(r.retained_customers),
                               @extschema@.report_num(r.cohort_customers), @extschema@.report_num(100 * r.retention_rate, 1),
                               @extschema@.report_px(x0 + r.month_offset * cw), @extschema@.report_px(y0 + r.i * ch),
                               @extschema@.report_px(cw - 1), @extschema@.report_px(ch - 1), round(r.light::numeric, 1),
                               CASE WHEN cw >= 18 THEN format('<text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text>',
                                                              CASE WHEN r.light < 62 THEN 'on-dark' ELSE 'on-light' END,
                                                              @extschema@.report_px(x0 + r.month_offset * cw + (cw - 1) / 2),
                                                              @extschema@.report_px(y0 + r.i * ch + ch / 2 + 3),
                                                              @extschema@.report_num(100 * r.retention_rate, 0))
                                    ELSE '' END);
        rows := rows || format(E'<tr data-cohort="%s" data-offset="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.cohort, r.month_offset, to_char(r.cohort, 'YYYY-MM'), r.month_offset, r.cohort_customers,
                               r.retained_customers, @extschema@.report_num(100 * r.retention_rate, 1));
    END LOOP;
    -- colour scale
    body := body || (SELECT string_agg(format('<rect x="%s" y="%s" width="22" height="10" fill="hsl(212,65%%,%s%%)"/>',
                                              x0 + 22 * k, height - 30, round((96 - 5.8 * k)::numeric, 1)), '' ORDER BY k)
                       FROM generate_series(0, 10) k)
        || format('<text class="tick" x="%s" y="%s" text-anchor="end">0%%</text><text class="tick" x="%s" y="%s">100%% of the cohort bought in that month</text>',
                  x0 - 4, height - 21, x0 + 246, height - 21)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">months since the first purchase (month offset)</text>', x0 + ncol * cw / 2, y0 - 22)
        || format('<text class="axis" transform="translate(14,%s) rotate(-90)" text-anchor="middle">cohort: month of first purchase (customers)</text>', y0 + nrow * ch / 2);
    RETURN @extschema@.report_section('cohorts', 'Cohort retention by month',
        format(E'<figure>\n%s\n<figcaption class="note">Each row is a cohort (customers whose first purchase fell in that month); each cell the share of the cohort that bought in that month offset, in percent. Only months ended by the as-of date are shown.</figcaption>\n</figure>\n<table class="sr-only"><caption>Cohort retention (the data of the heatmap)</caption><thead><tr><th scope="col">cohort</th><th scope="col">month offset</th><th scope="col">cohort customers</th><th scope="col">bought that month</th><th scope="col">retention (%%)</th></tr></thead><tbody>\n%s</tbody></table>',
               @extschema@.report_svg('cohorts', 760, height, 'Cohort retention heatmap: share of each monthly cohort buying in each later month', body), rows));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_cohorts(regclass) IS 'internal: the cohort retention heatmap of clm.report (from a relation shaped like cohort_retention_monthly)';

-- Stage flow: a Sankey diagram of the stage transitions.
CREATE FUNCTION @extschema@.report_flow(rel regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    xl float8 := 200; xr float8 := 546; nw float8 := 14; y0 float8 := 50; ph float8 := 330; gap float8 := 10;
    total float8; moved float8; nodes integer; k float8; d0 date; d1 date;
    r record;
    body text := '';
    rows text := '';
BEGIN
    EXECUTE format($q$
SELECT coalesce(sum(customers), 0), coalesce(sum(customers) FILTER (WHERE from_stage IS DISTINCT FROM to_stage), 0),
       greatest(count(DISTINCT from_stage), count(DISTINCT to_stage)), min(from_day), max(to_day)
  FROM %s WHERE customers > 0$q$, rel) INTO total, moved, nodes, d0, d1;
    IF total = 0 THEN
        RETURN @extschema@.report_section('flow', 'Stage flow', '<p class="note">No customer to show.</p>');
    END IF;
    k := (ph - gap * (nodes - 1)) / total;
    -- the nodes: customers per stage at each end, stacked in stage order
    FOR r IN EXECUTE format($q$
WITH t AS (SELECT from_stage::text AS f, to_stage::text AS g, customers::float8 AS c FROM %s WHERE customers > 0),
n AS (SELECT 'from' AS side, f AS stage, sum(c) AS c FROM t GROUP BY f
      UNION ALL SELECT 'to', g, sum(c) FROM t GROUP BY g)
SELECT side, stage, c, @extschema@.report_stage_order(stage) AS o,
       coalesce(sum(c) OVER w, 0) AS before, (count(*) OVER w)::int AS idx
  FROM n
WINDOW w AS (PARTITION BY side ORDER BY @extschema@.report_stage_order(stage), stage ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
 ORDER BY side, o, stage$q$, rel) LOOP
        body := body || format('<g class="node" data-side="%s" data-stage="%s"><title>%s: %s customers</title><rect class="s%s" x="%s" y="%s" width="%s" height="%s"/><text x="%s" y="%s" text-anchor="%s" data-node="%s:%s">%s %s</text></g>',
                               r.side, @extschema@.html_escape(r.stage),
                               @extschema@.html_escape(r.stage), @extschema@.report_num(r.c), r.o,
                               @extschema@.report_px(CASE WHEN r.side = 'from' THEN xl ELSE xr END),
                               @extschema@.report_px(y0 + r.before * k + r.idx * gap), nw,
                               @extschema@.report_px(greatest(r.c * k, 1)),
                               @extschema@.report_px(CASE WHEN r.side = 'from' THEN xl - 6 ELSE xr + nw + 6 END),
                               @extschema@.report_px(y0 + r.before * k + r.idx * gap + r.c * k / 2 + 4),
                               CASE WHEN r.side = 'from' THEN 'end' ELSE 'start' END,
                               r.side, @extschema@.html_escape(r.stage),
                               @extschema@.html_escape(r.stage), @extschema@.report_num(r.c));
    END LOOP;
    -- the links: each leaves its source node in target order and enters its
    -- target node in source order, so that bands do not cross inside a node
    FOR r IN EXECUTE format($q$
WITH t AS (SELECT from_stage::text AS f, to_stage::text AS g, customers::float8 AS c,
                  @extschema@.report_stage_order(from_stage) AS fo, @extschema@.report_stage_order(to_stage) AS go
             FROM %s WHERE customers > 0),
fn AS (SELECT f, coalesce(sum(sum(c)) OVER (ORDER BY min(fo), f ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
              (row_number() OVER (ORDER BY min(fo), f) - 1)::int AS idx FROM t GROUP BY f),
gn AS (SELECT g, coalesce(sum(sum(c)) OVER (ORDER BY min(go), g ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
              (row_number() OVER (ORDER BY min(go), g) - 1)::int AS idx FROM t GROUP BY g)
SELECT t.f, t.g, t.c, t.fo,
       fn.before + sum(t.c) OVER (PARTITION BY t.f ORDER BY t.go, t.g) - t.c AS fa, fn.idx AS fi,
       gn.before + sum(t.c) OVER (PARTITION BY t.g ORDER BY t.fo, t.f) - t.c AS ga, gn.idx AS gi
  FROM t JOIN fn ON fn.f = t.f JOIN gn ON gn.g = t.g
 ORDER BY t.c DESC$q$, rel) LOOP
        body := format('<path class="link s%s" d="M%s %s C%s %s %s %s %s %s L%s %s C%s %s %s %s %s %s Z"><title>%s to %s: %s customers</title></path>',
                       r.fo,
                       xl + nw, @extschema@.report_px(y0 + r.fa * k + r.fi * gap),
                       (xl + nw + xr) / 2, @extschema@.report_px(y0 + r.fa * k + r.fi * gap),
                       (xl + nw + xr) / 2, @extschema@.report_px(y0 + r.ga * k + r.gi * gap),
                       xr, @extschema@.report_px(y0 + r.ga * k + r.gi * gap),
                       xr, @extschema@.report_px(y0 + (r.ga + r.c) * k + r.gi * gap),
                       (xl + nw + xr) / 2, @extschema@.report_px(y0 + (r.ga + r.c) * k + r.gi * gap),
                       (xl + nw + xr) / 2, @extschema@.report_px(y0 + (r.fa + r.c) * k + r.fi * gap),
                       xl + nw, @extschema@.report_px(y0 + (r.fa + r.c) * k + r.fi * gap),
                       @extschema@.html_escape(r.f), @extschema@.html_escape(r.g), @extschema@.report_num(r.c))
                || body;
        rows := rows || format(E'<tr data-from="%s" data-to="%s"><th scope="row">%s</th><td class="text">%s</td><td>%s</td></tr>\n',
                               @extschema@.html_escape(r.f), @extschema@.html_escape(r.g),
                               @extschema@.html_escape(r.f), @extschema@.html_escape(r.g), r.c);
    END LOOP;
    body := body
        || format('<text class="axis" x="10" y="30">stage on %s (customers)</text>', d0)
        || format('<text class="axis" x="750" y="30" text-anchor="end">stage on %s (customers)</text>', d1)
        || format('<text class="tick" x="%s" y="%s" text-anchor="middle">band width: customers moving between the two stages (count)</text>',
                  (xl + xr + nw) / 2, y0 + ph + 24);
    RETURN @extschema@.report_section('flow', 'Stage flow',
        format(E'<figure>\n%s\n<figcaption class="note">Stage of every customer on %s (left) and on %s (right): <span id="flow-total" data-value="%s">%s</span> customers, <span id="flow-moved" data-value="%s">%s</span> of them in another stage at the end (none = no event yet at the start).</figcaption>\n</figure>\n<table class="sr-only"><caption>Stage transitions (the data of the flow diagram)</caption><thead><tr><th scope="col">stage on %s</th><th scope="col">stage on %s</th><th scope="col">customers</th></tr></thead><tbody>\n%s</tbody></table>',
               @extschema@.report_svg('flow', 760, (y0 + ph + 40)::int,
                                      format('Stage flow from %s to %s: customers by stage at the start (left) and at the end (right)', d0, d1), body),
               d0, d1, total, @extschema@.report_num(total), moved, @extschema@.report_num(moved), d0, d1, rows));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_flow(regclass) IS 'internal: the stage flow (Sankey) diagram of clm.report (from a relation shaped like stage_transitions)';

-- RFM grid (R by F, the main segment and the customers of each cell) and the segment summary.
CREATE FUNCTION @extschema@.report_rfm(stats jsonb, segments regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 90; y0 float8 := 20; gw float8 := 620; gh float8 := 300;
    n integer; cmax float8; cw float8; chh float8;
    r record;
    body text := '';
    rows text := '';
    seg text := '';
    grid text;
BEGIN
    SELECT greatest(max((e->>0)::int), max((e->>1)::int)) INTO n FROM jsonb_array_elements(stats->'rfm') e;
    IF n IS NULL OR n < 1 OR n > 20 THEN
        grid := '<p class="note">No customer with RFM scores (no purchase yet).</p>';
    ELSE
        cw := gw / n;
        chh := gh / n;
        -- the cells with customers: the most common segment, how many segments, customers
        FOR r IN
            WITH cell AS (SELECT (e->>0)::int AS r, (e->>1)::int AS f, e->>2 AS seg, (e->>3)::bigint AS n
                            FROM jsonb_array_elements(stats->'rfm') e),
            c AS (SELECT cell.r, cell.f, sum(cell.n) AS customers, count(cell.seg) AS segments,
                         (array_agg(cell.seg ORDER BY cell.n DESC, cell.seg) FILTER (WHERE cell.seg IS NOT NULL))[1] AS segment
                    FROM cell GROUP BY 1, 2)
            SELECT g_r.r, g_f.f, coalesce(c.customers, 0) AS customers, c.segment, coalesce(c.segments, 0) AS segments,
                   max(c.customers) OVER () AS cmax
              FROM generate_series(1, n) g_r(r) CROSS JOIN generate_series(1, n) g_f(f)
                   LEFT JOIN c ON c.r = g_r.r AND c.f = g_f.f
             ORDER BY g_f.f DESC, g_r.r
        LOOP
            cmax := greatest(r.cmax, 1);
            body := body || format('<g class="rfm" data-r="%s" data-f="%s" data-customers="%s"><title>R %s, F %s: %s customers, %s</title><rect x="%s" y="%s" width="%s" height="%s" fill="hsl(160,45%%,%s%%)"/>',
                                   r.r, r.f, r.customers, r.r, r.f, @extschema@.report_num(r.customers),
                                   CASE WHEN r.segments = 0 THEN 'no customer'
                                        WHEN r.segments = 1 THEN 'segment ' || @extschema@.html_escape(r.segment)
                                        ELSE format('mostly %s (%s segments)', @extschema@.html_escape(r.segment), r.segments) END,
                                   @extschema@.report_px(x0 + (r.r - 1) * cw), @extschema@.report_px(y0 + (n - r.f) * chh),
                                   @extschema@.report_px(cw - 2), @extschema@.report_px(chh - 2),
                                   round((95 - 50 * r.customers / cmax)::numeric, 1))
                || CASE WHEN r.customers = 0 THEN '' ELSE
                   format('<text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text><text class="cell %s" x="%s" y="%s" text-anchor="middle">%s</text>',
                          CASE WHEN 95 - 50 * r.customers / cmax < 62 THEN 'on-dark' ELSE 'on-light' END,
                          @extschema@.report_px(x0 + (r.r - 1) * cw + cw / 2 - 1), @extschema@.report_px(y0 + (n - r.f) * chh + chh / 2 - 3),
                          @extschema@.html_escape(CASE WHEN length(r.segment) > (cw / 6)::int
                                                       THEN left(r.segment, greatest((cw / 6)::int - 1, 1)) || '.' ELSE r.segment END),
                          CASE WHEN 95 - 50 * r.customers / cmax < 62 THEN 'on-dark' ELSE 'on-light' END,
                          @extschema@.report_px(x0 + (r.r - 1) * cw + cw / 2 - 1), @extschema@.report_px(y0 + (n - r.f) * chh + chh / 2 + 10),
                          @extschema@.report_num(r.customers)) END
                || '</g>';
            IF r.customers > 0 THEN
                rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td class="text">%s</td><td>%s</td></tr>\n',
                                       r.r, r.f, @extschema@.html_escape(r.segment) || CASE WHEN r.segments > 1 THEN format(' (and %s more)', r.segments - 1) ELSE '' END,
                                       r.customers);
            END IF;
        END LOOP;
        body := body
            || (SELECT string_agg(format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>',
                                         @extschema@.report_px(x0 + (i - 1) * cw + cw / 2), y0 + gh + 14, i,
                                         x0 - 6, @extschema@.report_px(y0 + (n - i) * chh + chh / 2 + 4), i), '' ORDER BY i)
                  FROM generate_series(1, n) i)
            || format('<text class="axis" x="%s" y="%s" text-anchor="middle">R score: recency (1 = longest since the last purchase, %s = most recent)</text>', x0 + gw / 2, y0 + gh + 36, n)
            || format('<text class="axis" transform="translate(40,%s) rotate(-90)" text-anchor="middle">F score: purchase days (1 = fewest)</text>', y0 + gh / 2);
        grid := format(E'<figure>\n%s\n<figcaption class="note">Customers by recency score (columns) and frequency score (rows); each cell names its most common segment (a cell spans several segments when the map uses the M score) and counts its customers.</figcaption>\n</figure>\n<table class="sr-only"><caption>RFM grid (the data of the chart)</caption><thead><tr><th scope="col">R score</th><th scope="col">F score</th><th scope="col">segment</th><th scope="col">customers</th></tr></thead><tbody>\n%s</tbody></table>',
                       @extschema@.report_svg('rfm', 760, (y0 + gh + 50)::int, 'RFM grid: customers by recency score and frequency score, with the segment of each cell', body),
                       rows);
    END IF;
    IF segments IS NOT NULL THEN
        FOR r IN EXECUTE format($q$
SELECT segment::text AS segment, customers, revenue, mean_clv, mean_churn_probability, at_risk_customers,
       customers::float8 / nullif(sum(customers) OVER (), 0) AS share,
       revenue::float8 / nullif(sum(revenue) OVER (), 0) AS revenue_share
  FROM %s ORDER BY revenue DESC, customers DESC, segment$q$, segments) LOOP
            seg := seg || format(E'<tr data-segment="%s"><th scope="row">%s</th><td class="customers">%s</td><td><span class="share" style="width:%spx" aria-hidden="true"></span>%s</td><td>%s</td><td><span class="share" style="width:%spx" aria-hidden="true"></span>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                                 @extschema@.html_escape(r.segment), @extschema@.html_escape(r.segment),
                                 @extschema@.report_num(r.customers), round((60 * coalesce(r.share, 0))::numeric, 1),
                                 @extschema@.report_num(100 * r.share, 1), @extschema@.report_num(r.revenue::float8, 0),
                                 round((60 * greatest(coalesce(r.revenue_share, 0), 0))::numeric, 1),
                                 @extschema@.report_num(100 * r.revenue_share, 1), @extschema@.report_num(r.mean_clv, 2),
                                 @extschema@.report_num(r.mean_churn_probability, 3), @extschema@.report_num(r.at_risk_customers));
        END LOOP;
        seg := format(E'<h3 id="segments-h">Segment summary</h3>\n<table id="segments" aria-labelledby="segments-h"><thead><tr><th scope="col">segment</th><th scope="col">customers</th><th scope="col">share (%%)</th><th scope="col">revenue to date (currency)</th><th scope="col">revenue share (%%)</th><th scope="col">mean CLV (currency)</th><th scope="col">mean churn probability</th><th scope="col">at risk (stage)</th></tr></thead><tbody>\n%s</tbody></table>',
                      seg);
    END IF;
    RETURN @extschema@.report_section('rfm', 'RFM grid and segments', grid || E'\n' || seg);
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_rfm(jsonb, regclass) IS 'internal: the RFM grid (from report_customers_pass) and the segment summary (from a relation shaped like segment_summary) of clm.report';

-- A histogram: bars of counts over bins, with its table.
CREATE FUNCTION @extschema@.report_histogram(id text, title text, xlabel text, edges double precision[],
    counts bigint[], decimals integer, open_end boolean)
    RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 720; y0 float8 := 20; y1 float8 := 200;
    nb integer := cardinality(counts);
    cmax float8; step float8; top float8; bw float8;
    body text;
    rows text := '';
    i integer;
BEGIN
    SELECT max(c) INTO cmax FROM unnest(counts) c;
    step := greatest(@extschema@.report_step(greatest(cmax, 1) / 5.0), 1);
    top := greatest(ceil(cmax / step), 1) * step;
    bw := (x1 - x0) / nb;
    body := @extschema@.report_yaxis(0, top, step, x0, x1, y1, y0, 0);
    FOR i IN 1 .. nb LOOP
        body := body || format('<g class="bin" data-bin="%s" data-customers="%s"><title>%s to %s%s: %s customers</title><rect class="c-bar" x="%s" y="%s" width="%s" height="%s"/></g>',
                               i, counts[i], @extschema@.report_num(edges[i], decimals), @extschema@.report_num(edges[i + 1], decimals),
                               CASE WHEN open_end AND i = nb THEN ' and above' ELSE '' END, @extschema@.report_num(counts[i]),
                               @extschema@.report_px(x0 + (i - 1) * bw + 1), @extschema@.report_px(y1 - counts[i] / top * (y1 - y0)),
                               @extschema@.report_px(bw - 2), @extschema@.report_px(counts[i] / top * (y1 - y0)));
        rows := rows || format(E'<tr><th scope="row">%s</th><td>%s</td><td>%s</td></tr>\n',
                               @extschema@.report_num(edges[i], decimals),
                               CASE WHEN open_end AND i = nb THEN 'and above' ELSE @extschema@.report_num(edges[i + 1], decimals) END,
                               counts[i]);
    END LOOP;
    FOR i IN 1 .. nb + 1 LOOP
        IF (i - 1) % greatest(nb / 5, 1) = 0 THEN
            body := body || format('<text class="tick" x="%s" y="%s" text-anchor="middle">%s%s</text>',
                                   @extschema@.report_px(x0 + (i - 1) * bw), y1 + 14, @extschema@.report_num(edges[i], decimals),
                                   CASE WHEN open_end AND i = nb + 1 THEN '+' ELSE '' END);
        END IF;
    END LOOP;
    body := body
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0, y1, x1, y1)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">%s</text>', (x0 + x1) / 2, y1 + 34, xlabel)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">customers (count)</text>', (y0 + y1) / 2);
    RETURN format(E'<h3 id="%1$s-h">%2$s</h3>\n<figure>\n%3$s\n</figure>\n<table class="sr-only"><caption>%2$s (the data of the histogram)</caption><thead><tr><th scope="col">from</th><th scope="col">to (excluded)</th><th scope="col">customers</th></tr></thead><tbody>\n%4$s</tbody></table>',
                  id, title, @extschema@.report_svg(id, 760, (y1 + 44)::int, title, body), rows);
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_histogram(text, text, text, double precision[], bigint[], integer, boolean) IS 'internal: a histogram chart of clm.report with its table (edges has one element more than counts; open_end: the last bin has no upper bound)';

-- The distributions of CLV and P(alive).
CREATE FUNCTION @extschema@.report_distributions(stats jsonb, horizon_weeks integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    h jsonb := stats->'headline';
    e double precision[] := @extschema@.report_clv_edges();
    lo integer; hi integer;
    edges double precision[];
    counts bigint[];
    out text := '';
BEGIN
    -- CLV: the bins from the lowest to the highest non-empty one (bin 0: below 0)
    SELECT min(k::int), max(k::int) INTO lo, hi FROM jsonb_object_keys(stats->'clv') k;
    IF lo IS NULL THEN
        out := '<h3>Customer lifetime value</h3><p class="note">No customer has a CLV (no purchase, or the models could not be fitted).</p>';
    ELSE
        hi := least(hi, cardinality(e) - 1);
        SELECT array_agg(coalesce((stats->'clv'->>b::text)::bigint, 0) ORDER BY b),
               array_agg(CASE WHEN b = 0 THEN (h->>'clv_min')::float8 ELSE e[b] END ORDER BY b) || e[hi + 1]
          INTO counts, edges
          FROM generate_series(lo, hi) b;
        IF (stats->'clv'->>(cardinality(e))::text) IS NOT NULL THEN
            counts[cardinality(counts)] := counts[cardinality(counts)] + (stats->'clv'->>(cardinality(e))::text)::bigint;
        END IF;
        out := @extschema@.report_histogram('clv', format('Customer lifetime value over %s weeks', horizon_weeks),
                   'CLV (currency units; bins 1, 2, 5 per decade)', edges, counts, 0, false)
            || format('<p class="note">%s customers with a CLV, mean %s%s.</p>',
                      @extschema@.report_num((h->>'clv_n')::float8), @extschema@.report_num((h->>'clv_mean')::float8, 2),
                      CASE WHEN (h->>'clv_missing')::bigint > 0
                           THEN format('; %s buyers without one (model not fitted, or spend not positive)', @extschema@.report_num((h->>'clv_missing')::float8))
                           ELSE '' END);
    END IF;
    IF coalesce((h->>'palive_n')::bigint, 0) = 0 THEN
        out := out || '<h3>P(alive)</h3><p class="note">No customer has a P(alive) (no purchase, or the purchase model could not be fitted).</p>';
    ELSE
        SELECT array_agg(coalesce((stats->'palive'->>b::text)::bigint, 0) ORDER BY b) INTO counts FROM generate_series(1, 20) b;
        out := out || @extschema@.report_histogram('palive', 'P(alive): probability that the customer is still active',
                   'P(alive) (probability, 0 to 1)', ARRAY(SELECT i / 20.0::float8 FROM generate_series(0, 20) i), counts, 2, false)
            || format('<p class="note">%s customers, mean P(alive) %s.</p>', @extschema@.report_num((h->>'palive_n')::float8),
                      @extschema@.report_num((h->>'palive_mean')::float8, 3));
    END IF;
    RETURN @extschema@.report_section('distributions', 'Distributions of CLV and P(alive)', out);
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_distributions(jsonb, integer) IS 'internal: the CLV and P(alive) histograms of clm.report (from report_customers_pass)';

-- Calibration of the purchase model on the holdout period after as_of.
CREATE FUNCTION @extschema@.report_calibration(profiles regclass, model @extschema@.model, as_of date, time_zone text)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    x0 float8 := 70; x1 float8 := 690; y0 float8 := 36; y1 float8 := 216;
    hend date; weeks float8; ymax float8; step float8; top float8; bw float8; nx integer;
    cal jsonb;
    r record;
    body text := '';
    line text := '';
    rows text := '';
BEGIN
    IF profiles IS NULL THEN
        RETURN @extschema@.report_section('calibration', 'Model calibration',
            '<p class="note">No holdout: the as-of date is not fixed in the past.</p>');
    END IF;
    IF NOT pg_catalog.has_table_privilege(profiles, 'SELECT') THEN
        RETURN @extschema@.report_section('calibration', 'Model calibration',
            '<p class="note">Not shown: the calibration reads the profiles table, which you may not read.</p>');
    END IF;
    IF model IS NULL THEN
        RETURN @extschema@.report_section('calibration', 'Model calibration',
            '<p class="note">Not shown: the purchase model could not be fitted.</p>');
    END IF;
    -- the end of the holdout: the day of the last event, in the time zone the
    -- profiles' days are counted in (the header of each profile holds its last
    -- event: no need to read its days)
    EXECUTE format('SELECT (max(@extschema@.last_event(p.profile)) AT TIME ZONE $1)::date FROM %s p', profiles)
        INTO hend USING time_zone;
    IF hend IS NULL OR hend <= as_of THEN
        RETURN @extschema@.report_section('calibration', 'Model calibration',
            format('<p class="note">No holdout: no event after the as-of date (%s), so there is nothing to compare the predictions with. Fix as_of in the past to see how the model predicts the events after it.</p>', as_of));
    END IF;
    weeks := (hend - as_of) / 7.0;
    -- one pass: mean actual and predicted purchase days by frequency bucket
    EXECUTE format($q$
SELECT coalesce(jsonb_agg(jsonb_build_object('x', x, 'n', n, 'actual', actual, 'predicted', predicted) ORDER BY x), '[]')
  FROM (SELECT least(b.x, 7) AS x, count(*) AS n, avg(h.orders - c.orders)::float8 AS actual,
               avg(@extschema@.expected_purchases($1, $2, b.x, b.t_x, b.t)) AS predicted
          FROM %s p CROSS JOIN LATERAL @extschema@.btyd_inputs(p.profile, $3, 'week') b
               CROSS JOIN LATERAL @extschema@.summary(p.profile, $3) c CROSS JOIN LATERAL @extschema@.summary(p.profile, $4) h
         WHERE b.t > 0 GROUP BY 1) s$q$, profiles) INTO cal USING model, weeks, as_of, hend;
    SELECT count(*), max(greatest((e->>'actual')::float8, (e->>'predicted')::float8)) INTO nx, ymax FROM jsonb_array_elements(cal) e;
    IF nx = 0 THEN
        RETURN @extschema@.report_section('calibration', 'Model calibration',
            '<p class="note">No customer had bought before the as-of date.</p>');
    END IF;
    step := @extschema@.report_step(greatest(ymax, 0.01) / 5.0);
    top := greatest(ceil(ymax / step), 1) * step;
    bw := (x1 - x0) / 8;
    body := @extschema@.report_yaxis(0, top, step, x0, x1, y1, y0, CASE WHEN step < 0.1 THEN 2 WHEN step < 1 THEN 1 ELSE 0 END);
    FOR r IN SELECT (e->>'x')::int AS x, (e->>'n')::bigint AS n, (e->>'actual')::float8 AS actual,
                    (e->>'predicted')::float8 AS predicted
               FROM jsonb_array_elements(cal) e ORDER BY 1 LOOP
        body := body || format('<g class="cal" data-x="%s"><title>%s repeat purchase days before %s (%s customers): actual %s, predicted %s</title><rect class="c-actual" x="%s" y="%s" width="%s" height="%s"/></g><text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>',
                               r.x, CASE WHEN r.x = 7 THEN '7 or more' ELSE r.x::text END, as_of, @extschema@.report_num(r.n),
                               @extschema@.report_num(r.actual, 2), @extschema@.report_num(r.predicted, 2),
                               @extschema@.report_px(x0 + r.x * bw + bw * 0.2), @extschema@.report_px(y1 - r.actual / top * (y1 - y0)),
                               @extschema@.report_px(bw * 0.6), @extschema@.report_px(greatest(r.actual, 0) / top * (y1 - y0)),
                               @extschema@.report_px(x0 + r.x * bw + bw / 2), y1 + 14, CASE WHEN r.x = 7 THEN '7+' ELSE r.x::text END);
        IF r.predicted IS NOT NULL THEN
            line := line || format('%s,%s ', @extschema@.report_px(x0 + r.x * bw + bw / 2), @extschema@.report_px(y1 - r.predicted / top * (y1 - y0)));
            body := body || format('<circle class="d-predicted" cx="%s" cy="%s" r="3"/>', @extschema@.report_px(x0 + r.x * bw + bw / 2),
                                   @extschema@.report_px(y1 - r.predicted / top * (y1 - y0)));
        END IF;
        rows := rows || format(E'<tr data-x="%s"><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               r.x, CASE WHEN r.x = 7 THEN '7+' ELSE r.x::text END, r.n,
                               @extschema@.report_num(r.actual, 3), @extschema@.report_num(r.predicted, 3));
    END LOOP;
    body := body
        || CASE WHEN line = '' THEN '' ELSE format('<polyline class="l-predicted" points="%s"/>', rtrim(line)) END
        || format('<line class="axisline" x1="%s" y1="%s" x2="%s" y2="%s"/>', x0, y1, x1, y1)
        || format('<text class="axis" x="%s" y="%s" text-anchor="middle">repeat purchase days up to %s (count; 7+ = seven or more)</text>', (x0 + x1) / 2, y1 + 34, as_of)
        || format('<text class="axis" transform="translate(16,%s) rotate(-90)" text-anchor="middle">purchase days per customer</text>', (y0 + y1) / 2)
        || '<rect class="c-actual" x="70" y="8" width="12" height="12"/><text x="86" y="18">actual, after the as-of date</text>'
        || '<circle class="d-predicted" cx="276" cy="14" r="4"/><text x="286" y="18">predicted by the model</text>';
    RETURN @extschema@.report_section('calibration', 'Model calibration',
        format(E'<figure>\n%s\n<figcaption class="note">Mean purchase days per customer in the holdout period from %s to %s (%s weeks), actual against predicted by the purchase model fitted up to %s, by the customers'' repeat purchase days before it.</figcaption>\n</figure>\n<table class="sr-only"><caption>Model calibration (the data of the chart)</caption><thead><tr><th scope="col">repeat purchase days up to %s</th><th scope="col">customers</th><th scope="col">actual purchase days after</th><th scope="col">predicted purchase days after</th></tr></thead><tbody>\n%s</tbody></table>',
               @extschema@.report_svg('calibration', 760, (y1 + 44)::int, 'Model calibration: actual and predicted purchase days in the holdout period by repeat purchase days before it', body),
               as_of + 1, hend, @extschema@.report_num(weeks, 1), as_of, as_of, rows));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_calibration(regclass, @extschema@.model, date, text) IS 'internal: the calibration chart of clm.report: mean actual and predicted purchase days after as_of, by repeat purchase days up to as_of (reads the profiles)';

-- The customers with the highest CLV.
CREATE FUNCTION @extschema@.report_top(customers regclass, n integer)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r record;
    rows text := '';
BEGIN
    FOR r IN EXECUTE format($q$
SELECT customer_id::text AS id, rfm_segment::text AS segment, stage::text AS stage, total_spend, clv, p_alive, expected_purchases_90d
  FROM %s WHERE clv IS NOT NULL AND clv < 'Infinity' ORDER BY clv DESC, customer_id LIMIT $1$q$, customers) USING n LOOP
        rows := rows || format(E'<tr><th scope="row" class="text">%s</th><td class="text">%s</td><td class="text">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n',
                               @extschema@.html_escape(r.id), @extschema@.html_escape(coalesce(r.segment, '')),
                               @extschema@.html_escape(coalesce(r.stage, '')), @extschema@.report_num(r.total_spend::float8, 2),
                               @extschema@.report_num(r.clv, 2), @extschema@.report_num(r.p_alive, 3),
                               @extschema@.report_num(r.expected_purchases_90d, 2));
    END LOOP;
    IF rows = '' THEN
        RETURN '';
    END IF;
    RETURN @extschema@.report_section('top', format('The %s customers with the highest CLV', n),
        format(E'<table id="top-customers"><thead><tr><th scope="col">customer</th><th scope="col" class="text">segment</th><th scope="col" class="text">stage</th><th scope="col">spend to date (currency)</th><th scope="col">CLV (currency)</th><th scope="col">P(alive)</th><th scope="col">expected purchases, 90 days</th></tr></thead><tbody>\n%s</tbody></table>', rows));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_top(regclass, integer) IS 'internal: the table of the customers with the highest CLV in clm.report';

-- The sentence of the page's header on a model chosen automatically (the
-- setting model = 'auto'): the chosen row of the choice (clm.tracked_model_choice),
-- or NULL if none was recorded.
CREATE FUNCTION @extschema@.report_model_choice(c @extschema@.tracked_model_choice)
    RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
RETURN CASE
        WHEN c.model IS NULL THEN
            ' <span id="model-choice" data-model="">Purchase model chosen automatically at each refit (setting model = auto); no choice recorded yet.</span>'
        ELSE pg_catalog.format(' <span id="model-choice" data-model="%1$s">Purchase model %1$s, chosen automatically (setting model = auto) on the holdout from %3$s to %2$s: %4$s.</span>',
                               @extschema@.html_escape(c.model), c.as_of, c.calibration_end, @extschema@.html_escape(c.reason))
    END;
COMMENT ON FUNCTION @extschema@.report_model_choice(@extschema@.tracked_model_choice) IS 'internal: the sentence of clm.report''s header on the purchase model chosen automatically (setting model = auto), from the chosen row of clm.tracked_model_choice (NULL: none recorded yet)';

-- The page: every section from the given relations.
CREATE FUNCTION @extschema@.report_render(title text, about text, horizon_weeks integer, time_zone text,
    customers regclass, lifecycle regclass, cohorts regclass, transitions regclass,
    segments regclass, models regclass, holdout_profiles regclass)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    as_of date;
    model @extschema@.model;
    t text := @extschema@.html_escape(title);
    stats jsonb := @extschema@.report_customers_pass(customers);
BEGIN
    EXECUTE format('SELECT max(as_of) FROM %s', customers) INTO as_of;
    IF models IS NOT NULL THEN
        EXECUTE format('SELECT as_of, model FROM %s WHERE role = ''purchase''', models) INTO as_of, model;
    END IF;
    RETURN format(E'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8"/>\n<meta name="viewport" content="width=device-width, initial-scale=1"/>\n<meta name="color-scheme" content="light dark"/>\n<meta name="generator" content="clm.report"/>\n<title>%1$s</title>\n<style>%2$s</style>\n</head>\n<body>\n<header>\n<h1>%1$s</h1>\n<p>As of <time id="as-of" datetime="%3$s">%3$s</time>. %4$s</p>\n</header>\n<main>\n%5$s%6$s%7$s%8$s%9$s%10$s%11$s%12$s</main>\n<footer>Made by clm.report on %13$s from the tables and views named above; every figure is as of %3$s. Self-contained: no script, nothing loaded from elsewhere.</footer>\n</body>\n</html>\n',
        t, @extschema@.report_style(), coalesce(as_of::text, 'unknown'), about,
        @extschema@.report_headline(stats, models, horizon_weeks),
        CASE WHEN lifecycle IS NULL THEN '' ELSE @extschema@.report_lifecycle(lifecycle) END,
        CASE WHEN cohorts IS NULL THEN '' ELSE @extschema@.report_cohorts(cohorts) END,
        CASE WHEN transitions IS NULL THEN '' ELSE @extschema@.report_flow(transitions) END,
        @extschema@.report_rfm(stats, segments),
        @extschema@.report_distributions(stats, horizon_weeks),
        CASE WHEN as_of IS NULL THEN '' ELSE @extschema@.report_calibration(holdout_profiles, model, as_of, time_zone) END,
        @extschema@.report_top(customers, 10),
        to_char(now(), 'YYYY-MM-DD HH24:MI TZ'));
END
$fn$;
COMMENT ON FUNCTION @extschema@.report_render(text, text, integer, text, regclass, regclass, regclass, regclass, regclass, regclass, regclass) IS 'internal: the HTML page of clm.report from relations shaped like a tracked source''s customers table and views (about must be escaped already; holdout_profiles NULL = no calibration section)';

-- The report of a tracked source.
CREATE FUNCTION @extschema@.report(name text, title text DEFAULT NULL)
    RETURNS text LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    r @extschema@.tracked_source;
    t name;
    choice @extschema@.tracked_model_choice;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'clm.report: the name of a tracked source is required' USING ERRCODE = '22004',
            HINT = 'SELECT name FROM clm.tracked_sources lists them; clm.report_profiles reports on a table of profiles.';
    END IF;
    r := @extschema@.track_lookup(name);
    t := r.target_schema;
    -- model 'auto': the model the last refit chose, and why
    IF r.settings->>'model' = 'auto' THEN
        SELECT * INTO choice FROM @extschema@.tracked_model_choice c WHERE c.source = r.name AND c.chosen;
    END IF;
    RETURN @extschema@.report_render(
        coalesce(title, 'Customer report: ' || name),
        format('Tracked source <strong>%s</strong> (events of %s), views in schema %s; models refitted %s, views refreshed %s.%s',
               @extschema@.html_escape(name), @extschema@.html_escape(r.source::text), @extschema@.html_escape(t),
               coalesce(to_char(r.last_refit, 'YYYY-MM-DD HH24:MI TZ'), 'never'),
               coalesce(to_char(r.last_views_refresh, 'YYYY-MM-DD HH24:MI TZ'), 'never'),
               CASE WHEN r.settings->>'model' = 'auto' THEN @extschema@.report_model_choice(choice) ELSE '' END),
        (r.settings->>'clv_horizon_weeks')::int, r.settings->>'time_zone',
        format('%I.customers', t)::regclass, format('%I.lifecycle_weekly', t)::regclass,
        format('%I.cohort_retention_monthly', t)::regclass, format('%I.stage_transitions', t)::regclass,
        format('%I.segment_summary', t)::regclass, format('%I.models', t)::regclass,
        CASE WHEN r.settings->>'as_of' IS NOT NULL THEN format('%I.profiles', t)::regclass END);
END
$fn$;
COMMENT ON FUNCTION @extschema@.report(text, text) IS 'one self-contained HTML page (inline CSS and SVG, nothing fetched) on a tracked source: headline figures, weekly lifecycle bars, cohort retention heatmap, stage flow, RFM grid and segments, CLV and P(alive) distributions, model calibration when the as_of setting leaves a holdout; read with the caller''s privileges';
