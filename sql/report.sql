--
-- clm.report: one self-contained HTML page from a tracked source's views.
-- Checked here: the page is well-formed XML (so well-formed HTML), loads
-- nothing, has every section with titled charts and their tables; the figures
-- it shows equal the views (and the calibration an independent count from the
-- events); hostile ids, segment names, titles and source names are escaped;
-- edge cases (no purchase, no event, one customer, one cohort); errors.
-- test/report/run opens the page in a browser.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = error;
CREATE SCHEMA rep_test;
SET search_path = rep_test, public;
-- rep_err(sql): runs one statement; 'ok' or 'SQLSTATE: message'
CREATE FUNCTION rep_err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
-- rep_all(html, pattern): every first capture group of pattern in html
CREATE FUNCTION rep_all(html text, pattern text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT m[1] FROM regexp_matches(html, pattern, 'g') m
$$;
-- rep_wellformed(html): every tag closed in order, attributes quoted, every
-- "<" starts a tag and every "&" a character reference (XML well-formedness,
-- checked here without libxml, which some builds lack)
CREATE FUNCTION rep_wellformed(html text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    st text[] := '{}';
    m text[];
    body text := regexp_replace(regexp_replace(html, '<style>.*?</style>', '<style></style>'), '^<!DOCTYPE html>', '');
BEGIN
    IF body ~ '&(?!(amp|lt|gt|quot|#[0-9]+);)' THEN
        RETURN false;
    END IF;
    FOR m IN SELECT regexp_matches(body, '<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<>]*")*)\s*(/?)>|(<)', 'g') LOOP
        IF m[5] IS NOT NULL THEN
            RETURN false;
        ELSIF m[1] = '/' THEN
            IF cardinality(st) = 0 OR st[cardinality(st)] <> m[2] THEN
                RETURN false;
            END IF;
            st := st[1:cardinality(st) - 1];
        ELSIF m[4] = '' AND m[2] <> 'meta' THEN
            st := st || m[2];
        END IF;
    END LOOP;
    RETURN cardinality(st) = 0;
END $$;
SELECT rep_wellformed('<p a="1"><b>x</b><br/></p>') AS good, rep_wellformed('<p><b></p></b>') AS crossed,
       rep_wellformed('<p>a & b</p>') AS bare_amp, rep_wellformed('<p>1 < 2</p>') AS bare_lt,
       rep_wellformed('<p a=1>x</p>') AS unquoted, rep_wellformed('<p>') AS unclosed;
-- rep_checks(html): what every page must be (self_contained: no element
-- or attribute that loads anything; test/report/run checks that in a browser)
CREATE FUNCTION rep_checks(html text, OUT well_formed boolean, OUT self_contained boolean,
    OUT sections text, OUT charts bigint, OUT titled_charts bigint, OUT chart_tables bigint)
LANGUAGE sql AS $$
    SELECT rep_wellformed(html) AND html LIKE E'<!DOCTYPE html>\n<html lang="en">%' AND html ~ '</html>\s*$',
           html !~* '(<(script|link|img|iframe|object|embed|audio|video|source|base|image|use|foreignobject)[\s>/]|\s(src|href|xlink:href|action|srcset|poster|data)\s*=\s*["'']|url\(|@import)',
           (SELECT string_agg(s, ' ') FROM rep_all(html, '<section id="([a-z]+)"') s),
           (SELECT count(*) FROM rep_all(html, '(<svg )') s),
           (SELECT count(*) FROM rep_all(html, '<svg class="chart" id="([a-z]+)-svg"[^>]* role="img" aria-labelledby="\1-title"><title id="\1-title">[^<]+</title>') s),
           (SELECT count(*) FROM rep_all(html, '(<table class="sr-only"><caption>)') s)
$$;

-- escaping and number formatting
SELECT clm.html_escape('<a href="x">Tom & Jerry''s</a>') AS escaped, clm.html_escape(NULL) IS NULL AS null_is_null;
SELECT clm.report_num(1234567.891, 2) AS a, clm.report_num(-1234.5, 0) AS b, clm.report_num(0.5, 3) AS c,
       clm.report_num('NaN', 1) AS nan, clm.report_num('-Infinity') AS inf, clm.report_num(NULL) AS null,
       clm.report_num(1e20) AS huge, clm.report_num(2.5, NULL) AS null_decimals, clm.report_num(1.23456789, 99) AS capped;
SELECT clm.report_step(0.7) AS s1, clm.report_step(3) AS s2, clm.report_step(4.2) AS s3, clm.report_step(730) AS s4,
       clm.report_step(0) AS zero, clm.report_step('NaN') AS nan, clm.report_step('Infinity') AS inf;

-- a tracked source of 400 sample customers, with a holdout: as_of half a year before the last event
CREATE TABLE ev AS SELECT * FROM clm.generate_events(400, seed => 7);
SELECT action, customers FROM clm.track('ev', 'customer_id', 'occurred_at', 'amount', 'channel',
    target_schema => 'rep', settings => '{"as_of": "2024-07-01", "cohort_months": 12}');
CREATE TABLE page AS SELECT clm.report('rep') AS html;
SELECT c.*, html !~* '(https?:|ftp:|//[a-z0-9])' AS no_address FROM page, rep_checks(html) c;
-- the page describes the as_of day, and names the source
SELECT (regexp_match(html, '<time id="as-of" datetime="([^"]+)">'))[1] AS as_of,
       html LIKE '%<title>Customer report: rep</title>%' AS default_title FROM page;

-- headline figures = the customers table (stage counts, sums)
SELECT k.id, k.shown, abs(k.value - v.value) <= 1e-9 * abs(v.value) AS equal, abs(replace(k.shown, ',', '')::numeric - v.value) <= 0.5 AS shown_rounded
  FROM page,
       LATERAL (SELECT m[1] AS id, m[2]::numeric AS value, m[3] AS shown
                  FROM regexp_matches(html, '<dd id="kpi-([a-z0-9_]+)" data-value="([^"]*)">([^<]*)</dd>', 'g') m) k
       JOIN (SELECT 'customers' AS id, count(*)::numeric AS value FROM rep.customers
             UNION ALL SELECT 'active', count(*) FROM rep.customers WHERE stage IN ('new', 'active', 'reactivated')
             UNION ALL SELECT 'at_risk', count(*) FROM rep.customers WHERE stage = 'at_risk'
             UNION ALL SELECT 'lapsed', count(*) FROM rep.customers WHERE stage = 'lapsed'
             UNION ALL SELECT 'churned', count(*) FROM rep.customers WHERE stage = 'churned'
             UNION ALL SELECT 'prospects', count(*) FROM rep.customers WHERE stage = 'prospect'
             UNION ALL SELECT 'purchases_90d', sum(expected_purchases_90d)::numeric FROM rep.customers
             UNION ALL SELECT 'revenue_90d', sum(expected_purchases_90d * expected_spend)::numeric FROM rep.customers
             UNION ALL SELECT 'total_clv', sum(total_clv)::numeric FROM rep.segment_summary) v
         ON v.id = k.id
 ORDER BY k.id;

-- lifecycle: one group of bars per week of the view, in order
SELECT (SELECT array_agg(w ORDER BY w) FROM rep_all(html, '<g class="week" data-week="([0-9-]+)">') w)
       = (SELECT array_agg(week_start::text ORDER BY week_start) FROM rep.lifecycle_weekly) AS weeks_equal,
       (SELECT count(*) FROM rep.lifecycle_weekly) AS weeks
  FROM page;
-- the bars of one week: heights proportional to the counts (same scale for all four)
WITH w AS (SELECT * FROM rep.lifecycle_weekly ORDER BY week_start DESC OFFSET 3 LIMIT 1),
bars AS (SELECT m[1] AS cls, m[2]::float8 AS h
           FROM page, w, regexp_matches(substring(html FROM '<g class="week" data-week="' || w.week_start || '">.*?</g>'),
                                        '<rect class="c-([a-z]+)" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"/>', 'g') m)
SELECT bool_and(abs(b.h / (SELECT h FROM bars WHERE cls = 'returning')
                    - v.n / w.returning_customers::float8) < 0.02) AS proportional, count(*) AS bars
  FROM bars b, w,
       LATERAL (VALUES ('new', w.new_customers), ('returning', w.returning_customers),
                       ('resurrecting', w.resurrecting_customers), ('dormant', w.dormant_customers)) v(cls, n)
 WHERE v.cls = b.cls;

-- heatmap: one cell per row of the view, its rate, and the percent shown in it
WITH cells AS (SELECT m[1]::date AS cohort, m[2]::int AS month_offset, m[3]::float8 AS rate, m[4]::int AS shown
                 FROM page, regexp_matches(html, '<g class="hm" data-cohort="([^"]+)" data-offset="([^"]+)" data-rate="([^"]*)"><title>[^<]*</title><rect [^>]*/><text [^>]*>([0-9]+)</text></g>', 'g') m)
SELECT count(*) AS cells, (SELECT count(*) FROM rep.cohort_retention_monthly) AS view_rows,
       bool_and(c.rate = v.retention_rate) AS rates_equal,
       bool_and(c.shown = round(100 * v.retention_rate)) AS percent_shown
  FROM cells c JOIN rep.cohort_retention_monthly v USING (cohort, month_offset);

-- stage flow: the totals shown, each node's count, each band's count
SELECT (regexp_match(html, 'id="flow-total" data-value="([0-9]+)"'))[1]::bigint = (SELECT sum(customers) FROM rep.stage_transitions) AS total,
       (regexp_match(html, 'id="flow-moved" data-value="([0-9]+)"'))[1]::bigint
           = (SELECT sum(customers) FROM rep.stage_transitions WHERE from_stage <> to_stage) AS moved
  FROM page;
WITH nodes AS (SELECT m[1] AS side, m[2] AS stage, replace(m[3], ',', '')::bigint AS shown
                 FROM page, regexp_matches(html, 'data-node="(from|to):([a-z_]+)">[a-z_]+ ([0-9,]+)</text>', 'g') m)
SELECT count(*) AS nodes,
       bool_and(shown = CASE side WHEN 'from' THEN (SELECT sum(customers) FROM rep.stage_transitions t WHERE t.from_stage = n.stage)
                                  ELSE (SELECT sum(customers) FROM rep.stage_transitions t WHERE t.to_stage = n.stage) END) AS counts_equal
  FROM nodes n;
SELECT count(*) AS bands, bool_and(b.n = t.customers) AS equal, count(t.*) = (SELECT count(*) FROM rep.stage_transitions WHERE customers > 0) AS all_bands
  FROM (SELECT m[1] AS f, m[2] AS t, m[3]::bigint AS n
          FROM page, regexp_matches(html, '<tr data-from="([^"]+)" data-to="([^"]+)"><th scope="row">[^<]*</th><td class="text">[^<]*</td><td>([0-9]+)</td></tr>', 'g') m) b
       LEFT JOIN rep.stage_transitions t ON t.from_stage = b.f AND t.to_stage = b.t;

-- RFM grid: the cells hold every scored customer, cell by cell
SELECT sum(m[3]::bigint) = (SELECT count(*) FROM rep.customers WHERE r_score IS NOT NULL) AS all_customers,
       bool_and(m[3]::bigint = (SELECT count(*) FROM rep.customers c WHERE c.r_score = m[1]::int AND c.f_score = m[2]::int)) AS cells_equal,
       count(*) AS cells
  FROM page, regexp_matches(html, '<g class="rfm" data-r="([0-9]+)" data-f="([0-9]+)" data-customers="([0-9]+)">', 'g') m;
-- segment summary: every segment with its count
SELECT s.segment, s.customers, m[2] AS shown
  FROM page, regexp_matches(html, '<tr data-segment="([^"]+)"><th scope="row">[^<]+</th><td class="customers">([0-9,]+)</td>', 'g') m
       JOIN rep.segment_summary s ON clm.html_escape(s.segment) = m[1]
 ORDER BY s.segment;

-- distributions: the histograms count every customer with a finite CLV, every P(alive)
SELECT (SELECT sum(b::bigint) FROM rep_all(html, '<g class="bin" data-bin="[0-9]+" data-customers="([0-9]+)"><title>[^<]*</title><rect class="c-bar"[^>]*/></g>(?=.*<h3 id="palive-h">)') b)
           = (SELECT count(*) FROM rep.customers WHERE clv < 'Infinity') AS clv_customers,
       (SELECT sum(b::bigint) FROM rep_all(substring(html FROM '<h3 id="palive-h">.*'), 'data-customers="([0-9]+)"><title>') b)
           = (SELECT count(*) FROM rep.customers WHERE p_alive BETWEEN 0 AND 1) AS palive_customers
  FROM page;

-- calibration: the holdout runs from as_of + 1 to the last event; actual
-- purchase days after as_of by repeat purchase days up to it, counted here
-- from the events, and the model's prediction
SELECT substring(html FROM 'holdout period from ([0-9-]+ to [0-9-]+)') AS holdout FROM page;
WITH days AS (SELECT DISTINCT customer_id, occurred_at::date AS d FROM ev WHERE amount IS NOT NULL),
per AS (SELECT customer_id, count(*) FILTER (WHERE d <= '2024-07-01') AS before, count(*) FILTER (WHERE d > '2024-07-01') AS after,
               min(d) AS first
          FROM days GROUP BY 1),
truth AS (SELECT least(before - 1, 7) AS x, count(*) AS n, avg(after) AS actual
            FROM per WHERE before > 0 AND first < '2024-07-01' GROUP BY 1),
shown AS (SELECT m[1]::int AS x, m[2]::bigint AS n, m[3]::numeric AS actual, m[4]::numeric AS predicted
            FROM page, regexp_matches(html, '<tr data-x="([0-9])"><th scope="row">[0-9+]+</th><td>([0-9]+)</td><td>([0-9.]+)</td><td>([0-9.]+)</td></tr>', 'g') m),
model AS (SELECT avg(clm.expected_purchases(m.model, (DATE '2024-12-31' - DATE '2024-07-01') / 7.0, b.x, b.t_x, b.t)) AS p, least(b.x, 7) AS x
            FROM rep.profiles p CROSS JOIN rep.models m CROSS JOIN LATERAL clm.btyd_inputs(p.profile, '2024-07-01', 'week') b
           WHERE m.role = 'purchase' AND b.t > 0 GROUP BY 2)
SELECT s.x, s.n = t.n AS n_equal, s.actual = round(t.actual, 3) AS actual_equal, s.predicted = round(m.p::numeric, 3) AS predicted_equal
  FROM shown s JOIN truth t USING (x) JOIN model m USING (x) ORDER BY s.x;

-- the top customers: by CLV, as in the customers table
SELECT array_agg(m[1]::bigint ORDER BY ord) = (SELECT array_agg(customer_id ORDER BY clv DESC, customer_id) FROM
                                               (SELECT * FROM rep.customers WHERE clv IS NOT NULL ORDER BY clv DESC, customer_id LIMIT 10) t) AS top_equal
  FROM page, regexp_matches(substring(html FROM '<table id="top-customers">.*'), '<tr><th scope="row" class="text">([^<]+)</th>', 'g') WITH ORDINALITY x(m, ord);

-- without a tracked source: clm.report_profiles on the source's profiles
-- with the source's settings draws the same page (but for the header, the
-- title and the footer), and leaves no temporary table behind
CREATE TABLE ppage AS
SELECT clm.report_profiles('rep.profiles', settings => (SELECT settings FROM clm.tracked_source WHERE name = 'rep')) AS html;
SELECT regexp_replace(p.html, '<title>.*?</title>|<header>.*?</header>|<footer>.*?</footer>', '', 'g')
     = regexp_replace(r.html, '<title>.*?</title>|<header>.*?</header>|<footer>.*?</footer>', '', 'g') AS same_page,
       length(p.html) > 100000 AS long, (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()) AS temp_tables_left
  FROM ppage p, page r;
SELECT substring(html FROM '<p>As of .*?</p>') AS about FROM ppage;
-- one definition serves both: each materialised view of the source is the
-- query clm.track_view_sql gives for it (clm.report_profiles runs the same
-- queries over its temporary tables)
CREATE FUNCTION pg_temp.same_definition(rel name) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    same boolean;
BEGIN
    EXECUTE format('CREATE TEMPORARY VIEW same_definition_v AS %s',
                   clm.track_view_sql(rel, 'rep', (SELECT settings FROM clm.tracked_source WHERE name = 'rep')));
    same := pg_get_viewdef('same_definition_v'::regclass) = pg_get_viewdef(format('rep.%I', rel)::regclass);
    DROP VIEW same_definition_v;
    RETURN same;
END
$$;
SELECT v.rel, pg_temp.same_definition(v.rel) AS same_definition
  FROM (VALUES ('stage_counts_daily'), ('lifecycle_weekly'), ('cohort_retention_monthly'), ('stage_transitions'),
               ('segment_summary'), ('models')) v(rel);
SELECT count(*) AS population_views FROM pg_matviews WHERE schemaname = 'rep';
\set VERBOSITY sqlstate
SELECT clm.track_view_sql('customers', 'rep', '{}');
\set VERBOSITY default
-- other columns, duplicate customer ids (merged), as_of given, a title
CREATE TABLE myprofiles AS
SELECT customer_id AS cid, clm.profile(occurred_at, amount) AS p FROM ev WHERE occurred_at < '2024-01-01' GROUP BY 1
UNION ALL
SELECT customer_id, clm.profile(occurred_at, amount) FROM ev WHERE occurred_at >= '2024-01-01' GROUP BY 1;
SELECT c.well_formed, c.self_contained, c.sections,
       (regexp_match(html, 'id="kpi-customers" data-value="([0-9]+)"'))[1] AS customers,
       (regexp_match(html, '<time id="as-of" datetime="([^"]+)">'))[1] AS as_of,
       html LIKE '%<h1>Mine &amp; &lt;yours&gt;</h1>%' AS title
  FROM (SELECT clm.report_profiles('myprofiles', '2024-07-01', '{"rfm_map": "grid10"}', 'Mine & <yours>', 'cid', 'p') AS html) x,
       rep_checks(x.html) c;
-- whole weeks only, as the tracked source's lifecycle_weekly: as of Wednesday
-- 2024-07-03 the last week shown is that of Monday 2024-06-24 (the week of
-- 2024-07-01 has not ended), 52 weeks
SELECT max(w) AS last_week, count(*) AS weeks
  FROM (SELECT clm.report_profiles('myprofiles', '2024-07-03', NULL, NULL, 'cid', 'p') AS html) x,
       LATERAL (SELECT m[1]::date AS w FROM regexp_matches(x.html, '<g class="week" data-week="([0-9-]+)">', 'g') m) k;
\set VERBOSITY sqlstate
SELECT clm.report_profiles(NULL);
SELECT clm.report_profiles('myprofiles');
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'cid');
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'p', settings => '{"model": "weibull"}');
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'p', settings => '[1]');
CREATE TEMPORARY TABLE clm_fit (x int);
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'p');
\set VERBOSITY default
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'cid');
SELECT clm.report_profiles('myprofiles', customer_column => 'cid', profile_column => 'p');
DROP TABLE pg_temp.clm_fit;

-- without a fixed as_of there is no holdout: the calibration says so
CREATE TABLE ev2 AS SELECT * FROM clm.generate_events(60, seed => 8);
SELECT action FROM clm.track('ev2', 'customer_id', 'occurred_at', 'amount', target_schema => 'rep2');
SELECT c.sections, c.well_formed, html LIKE '%No holdout: the as-of date is not fixed in the past.%' AS no_holdout
  FROM (SELECT clm.report('rep2') AS html) p, rep_checks(p.html) c;

-- hostile strings: customer ids, segment names (a segment map of our own),
-- the source name and the title are escaped everywhere
CREATE TABLE hostile (cid text, at timestamptz, amount numeric);
INSERT INTO hostile
SELECT CASE e.customer_id % 4 WHEN 0 THEN '<script>alert(' || e.customer_id || ')</script>'
                              WHEN 1 THEN '"><img src=x onerror=alert(' || e.customer_id || ')>'
                              WHEN 2 THEN 'Tom & Jerry''s ' || e.customer_id
                              ELSE ']]><!-- ' || e.customer_id || ' -->' END,
       e.occurred_at, e.amount
  FROM clm.generate_events(80, seed => 9) e;
INSERT INTO clm.rfm_segment_map (map_name, rule_id, segment, priority, r_min, r_max, f_min, f_max, m_min, m_max, description)
SELECT 'rep_evil', rule_id, '<b onmouseover="x">' || segment || '</b> & ''q''', priority, r_min, r_max, f_min, f_max, m_min, m_max, description
  FROM clm.rfm_segment_map WHERE map_name = 'rfm11';
SELECT action FROM clm.track('hostile', 'cid', 'at', 'amount', target_schema => 'rep_hostile',
    name => '<i>src</i> & "x"', settings => '{"as_of": "2025-01-01", "rfm_map": "rep_evil"}');
CREATE TABLE hpage AS SELECT clm.report('<i>src</i> & "x"', '<script>title</script> & co') AS html;
SELECT c.* FROM hpage, rep_checks(html) c;
SELECT html !~ '<(b|i|script|img)[ >]' AS no_injected_tags,
       html LIKE '%<title>&lt;script&gt;title&lt;/script&gt; &amp; co</title>%' AS title_escaped,
       html LIKE '%<strong>&lt;i&gt;src&lt;/i&gt; &amp; &quot;x&quot;</strong>%' AS name_escaped,
       html LIKE '%&lt;b onmouseover=&quot;x&quot;&gt;champions&lt;/b&gt; &amp; &#39;q&#39;%' AS segment_escaped,
       html LIKE '%&lt;script&gt;alert(%' OR html LIKE '%&quot;&gt;&lt;img src=x%' OR html LIKE '%Tom &amp; Jerry&#39;s%'
           OR html LIKE '%]]&gt;&lt;!-- %' AS ids_escaped
  FROM hpage;
-- the segment counts still match, through the escaping
SELECT count(*) AS segments, bool_and(replace(m[2], ',', '')::bigint = s.customers) AS counts_equal
  FROM hpage, regexp_matches(html, '<tr data-segment="([^"]+)"><th scope="row">[^<]+</th><td class="customers">([0-9,]+)</td>', 'g') m
       JOIN rep_hostile.segment_summary s ON clm.html_escape(s.segment) = m[1];

-- edge cases
-- a source with visits only (no purchase): no model, no RFM score, no cohort
CREATE TABLE visits AS SELECT customer_id, occurred_at, NULL::numeric AS amount
  FROM clm.generate_events(50, seed => 3) WHERE amount IS NULL;
SELECT action FROM clm.track('visits', 'customer_id', 'occurred_at', 'amount', target_schema => 'rep_visits',
    settings => '{"as_of": "2025-01-01"}');
SELECT c.*, html LIKE '%Purchase model not fitted: %' AS model_note, html LIKE '%No customer with RFM scores%' AS rfm_note,
       html LIKE '%No cohort with a complete month yet.%' AS cohort_note, html LIKE '%No customer has a CLV%' AS clv_note,
       (regexp_match(html, 'id="kpi-prospects" data-value="([0-9]+)"'))[1]::bigint = (SELECT count(*) FROM rep_visits.customers) AS all_prospects
  FROM (SELECT clm.report('rep_visits') AS html) p, rep_checks(p.html) c;
-- a source with no event at all
CREATE TABLE nothing (customer_id bigint, occurred_at timestamptz, amount numeric);
SELECT action FROM clm.track('nothing', 'customer_id', 'occurred_at', 'amount', target_schema => 'rep_nothing',
    settings => '{"as_of": "2025-01-01"}');
SELECT c.*, (regexp_match(html, 'id="kpi-customers" data-value="([0-9]+)"'))[1] AS customers,
       html LIKE '%No customer to show.%' AS flow_note, html LIKE '%No weeks to show.%' OR html LIKE '%<g class="week"%' AS lifecycle
  FROM (SELECT clm.report('rep_nothing') AS html) p, rep_checks(p.html) c;
-- one customer, three purchase days and a visit (too few to fit a model)
CREATE TABLE one (customer_id bigint, occurred_at timestamptz, amount numeric);
INSERT INTO one VALUES (77, '2024-03-01 10:00', 20), (77, '2024-05-01 10:00', 30.5), (77, '2024-05-01 18:00', 4.5),
                       (77, '2024-11-20 09:00', 12), (77, '2024-12-01 09:00', NULL);
SELECT action FROM clm.track('one', 'customer_id', 'occurred_at', 'amount', target_schema => 'rep_one',
    settings => '{"as_of": "2025-01-01"}');
SELECT c.*, (regexp_match(html, 'id="kpi-customers" data-value="([0-9]+)"'))[1] AS customers,
       (SELECT string_agg(m, ' ') FROM rep_all(html, '<g class="rfm" (data-r="[0-9]+" data-f="[0-9]+" data-customers="[1-9][0-9]*")') m) AS rfm_cell,
       html LIKE '%<tr data-segment="%">%<td class="customers">1</td>%' AS segment,
       (SELECT string_agg(m, ' ') FROM rep_all(html, 'data-node="((from|to):[a-z_]+)"') m) AS flow
  FROM (SELECT clm.report('rep_one') AS html) p, rep_checks(p.html) c;
-- a single cohort: every customer's first purchase in January 2023
CREATE TABLE jan AS SELECT * FROM clm.generate_events(40, seed => 5, acquisition_days => 25);
SELECT action FROM clm.track('jan', 'customer_id', 'occurred_at', 'amount', target_schema => 'rep_jan',
    settings => '{"as_of": "2025-01-01"}');
SELECT c.well_formed, c.self_contained,
       (SELECT count(DISTINCT m) FROM rep_all(html, '<g class="hm" data-cohort="([^"]+)"') m) AS cohorts_shown,
       (SELECT count(*) FROM rep_all(html, '(<g class="hm" )') m) = (SELECT count(*) FROM rep_jan.cohort_retention_monthly) AS cells
  FROM (SELECT clm.report('rep_jan') AS html) p, rep_checks(p.html) c;

-- privileges: the report reads with the caller's rights
CREATE ROLE clm_report_reader;
CREATE ROLE clm_report_other;
GRANT USAGE ON SCHEMA clm, rep_test TO clm_report_reader, clm_report_other;
SELECT clm.grant_reader('rep', 'clm_report_reader');
SET ROLE clm_report_other;
SELECT rep_err($$SELECT clm.report('rep')$$) AS other;
SET ROLE clm_report_reader;
-- a reader sees the views, not the profiles: no calibration for it
SELECT c.well_formed, html LIKE '%Not shown: the calibration reads the profiles table, which you may not read.%' AS calibration_note
  FROM (SELECT clm.report('rep') AS html) p, rep_checks(p.html) c;
RESET ROLE;

-- errors
\set VERBOSITY sqlstate
SELECT clm.report(NULL);
SELECT clm.report('no such source');
\set VERBOSITY default
SELECT clm.report(NULL, 'title');
SELECT clm.report('no such source');
-- volatility, a pinned search_path (or a SQL-standard body, bound at creation), comments
SELECT p.proname, p.provolatile, p.proparallel,
       CASE WHEN p.prosqlbody IS NOT NULL THEN 'sql body' ELSE array_to_string(p.proconfig, ', ') END AS names_bound_by,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p WHERE p.pronamespace = 'clm'::regnamespace AND (p.proname LIKE 'report%' OR p.proname = 'html_escape')
 ORDER BY 1, 2;

-- clean up
SELECT clm.untrack(name) FROM clm.tracked_source
 WHERE name IN ('rep', 'rep2', '<i>src</i> & "x"', 'rep_visits', 'rep_nothing', 'rep_one', 'rep_jan') ORDER BY name;
DELETE FROM clm.rfm_segment_map WHERE map_name = 'rep_evil';
REVOKE USAGE ON SCHEMA clm FROM clm_report_reader, clm_report_other;
DROP SCHEMA rep_test CASCADE;
DROP ROLE clm_report_reader;
DROP ROLE clm_report_other;
