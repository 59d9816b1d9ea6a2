--
-- clm.report and clm.report_profiles with the setting model = 'auto': the
-- header names the purchase model the refit chose (clm.tracked_model_choice),
-- says it was chosen automatically and why; the headline shows that model.
-- Data: 1,000 customers of clm.generate_events with the MBG/NBD dropout
-- story (seed 2), on which the holdout log-likelihood of the 26 weeks to
-- 2024-12-31 picks mbgnbd, by 3.8 over bgnbd (not the default, bgnbd, so a
-- page that showed the default or the setting could not pass).
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET client_min_messages = error;
CREATE SCHEMA rmc_test;
SET search_path = rmc_test, public;
CREATE TABLE ev AS
SELECT customer_id, occurred_at, amount
  FROM clm.generate_events(1000, seed => 2, dropout => 'mbgnbd', alpha => 10, visit_ratio => 0);
SELECT name, action FROM clm.track('ev', 'customer_id', 'occurred_at', 'amount', target_schema => 'rmc', name => 'rmc',
                                   settings => '{"model": "auto", "as_of": "2024-12-31", "model_holdout_weeks": 26}');
-- the choice recorded: mbgnbd, the highest holdout log-likelihood
SELECT model, status, chosen, calibration_end,
       holdout_log_likelihood = max(holdout_log_likelihood) OVER () AS highest
  FROM clm.tracked_model_choice WHERE source = 'rmc' ORDER BY model;
SELECT kind FROM rmc.models WHERE role = 'purchase';

-- the page: the chosen model in the header, with the reason recorded (escaped
-- as the page escapes text), and in the headline; 'auto' only as the setting
CREATE TABLE page AS SELECT clm.report('rmc') AS html;
SELECT (regexp_match(html, '<span id="model-choice" data-model="([^"]*)">'))[1] AS header_model,
       (regexp_match(html, '<span id="model-choice" data-model="[^"]*">([^<]*)</span>'))[1]
         = format('Purchase model mbgnbd, chosen automatically (setting model = auto) on the holdout from 2024-07-02 to 2024-12-31: %s.',
                  clm.html_escape((SELECT reason FROM clm.tracked_model_choice WHERE source = 'rmc' AND chosen))) AS header_text,
       (regexp_match(html, '<li>Purchase model ([a-z]+) '))[1] AS headline_model,
       html !~* 'model (is )?auto\M' AS not_shown_as_auto
  FROM page;
SELECT substring(html FROM 'data-model="mbgnbd">Purchase model mbgnbd, chosen automatically \(setting model = auto\) on the holdout from 2024-07-02 to 2024-12-31: mbgnbd: highest holdout log-likelihood') IS NOT NULL AS reason_shown
  FROM page;

-- clm.report_profiles on the same profiles with the same settings: the same
-- choice (it failed with 23503 before: it recorded the choice for a source
-- not in the catalog), recorded nowhere, and the same page but for the
-- header, title and footer
CREATE TABLE ppage AS
SELECT clm.report_profiles('rmc.profiles', settings => (SELECT settings FROM clm.tracked_source WHERE name = 'rmc')) AS html;
SELECT (regexp_match(p.html, '<span id="model-choice" data-model="([^"]*)">([^<]*)</span>'))[2]
         = (regexp_match(r.html, '<span id="model-choice" data-model="([^"]*)">([^<]*)</span>'))[2] AS same_choice_text,
       (regexp_match(p.html, '<li>Purchase model ([a-z]+) '))[1] AS headline_model,
       regexp_replace(p.html, '<title>.*?</title>|<header>.*?</header>|<footer>.*?</footer>', '', 'g')
         = regexp_replace(r.html, '<title>.*?</title>|<header>.*?</header>|<footer>.*?</footer>', '', 'g') AS same_page,
       (SELECT count(*) FROM clm.tracked_model_choice WHERE source <> 'rmc') AS other_choices_recorded
  FROM ppage p, page r;

-- no choice could be made (too few customers before the holdout): bgnbd by
-- default, and the page says why
CREATE TABLE few AS SELECT * FROM ev WHERE customer_id <= 5;
SELECT clm.track('few', 'customer_id', 'occurred_at', 'amount', target_schema => 'rmc_few', name => 'rmc_few',
                 settings => '{"model": "auto", "as_of": "2024-12-31", "model_holdout_weeks": 520}') IS NOT NULL AS tracked;
SELECT model, status, chosen FROM clm.tracked_model_choice WHERE source = 'rmc_few';
SELECT (regexp_match(html, '<span id="model-choice" data-model="([^"]*)">'))[1] AS header_model,
       html ~ 'chosen automatically \(setting model = auto\) on the holdout from [0-9-]+ to 2024-12-31: bgnbd by default, no choice made: clm: too few customers' AS default_said
  FROM (SELECT clm.report('rmc_few') AS html) x;
-- no choice recorded (as after an update, before the next refit)
DELETE FROM clm.tracked_model_choice WHERE source = 'rmc_few';
SELECT (regexp_match(html, '<span id="model-choice" data-model="([^"]*)">([^<]*)</span>'))[2] AS header_text
  FROM (SELECT clm.report('rmc_few') AS html) x;
-- a model set by name: no such sentence
UPDATE clm.tracked_source SET settings = settings || '{"model": "bgnbd"}' WHERE name = 'rmc_few';
SELECT html LIKE '%model-choice%' AS choice_shown FROM (SELECT clm.report('rmc_few') AS html) x;

SELECT clm.untrack('rmc'), clm.untrack('rmc_few');
DROP SCHEMA rmc_test CASCADE;
