-- test/upgrade/results.sql: every stored value of test/upgrade/setup.sql read
-- back (text form, binary form, the bytes stored) and the answers of the
-- functions over them, as rows (k, v) of the view upgrade_results.  Only the
-- stored values are read: nothing is recomputed from the events here except
-- where the key says so (fresh_*), which compares the code, not the values.
CREATE TEMP VIEW upgrade_results_0_1(k, v) AS
-- profiles: text, binary, and what the functions make of them
SELECT 'profile ' || customer_id || ' text', p::text FROM profiles
UNION ALL SELECT 'profile ' || customer_id || ' binary', md5(clm.profile_send(p)) FROM profiles
UNION ALL SELECT 'profile ' || customer_id || ' summary', clm.summary(p, prm.as_of)::text FROM profiles, prm
UNION ALL SELECT 'profile ' || customer_id || ' stage', clm.stage(p, prm.as_of)::text FROM profiles, prm
UNION ALL SELECT 'profile ' || customer_id || ' channels',
                 (SELECT string_agg(c::text, ';' ORDER BY c::text) FROM clm.channel_ranking(p, prm.as_of) c)
          FROM profiles, prm
UNION ALL SELECT 'profile ' || customer_id || ' days',
                 (SELECT string_agg(d::text, ';' ORDER BY d.day) FROM clm.profile_days(p) d) FROM profiles
UNION ALL SELECT 'profile ' || customer_id || ' rfm ' || b.name,
                 (SELECT s::text || ' ' || coalesce(clm.rfm_segment(s)::text, '-') || ' ' || coalesce(clm.rfm_segment(s, 'mine')::text, '-')
                  FROM clm.rfm_score(p, b.bp, prm.as_of) s)
          FROM profiles, prm, breakpoints b WHERE b.name <> 'quantile3'
UNION ALL SELECT 'profiles merged', clm.profile_merge(p)::text FROM profiles
-- models
UNION ALL SELECT 'model ' || name || ' text', m::text FROM models
UNION ALL SELECT 'model ' || name || ' binary', md5(clm.model_send(m)) FROM models
UNION ALL SELECT 'model ' || name || ' info', clm.model_info(m)::text FROM models
UNION ALL SELECT 'model ' || name || ' predictions ' || customer_id,
                 concat_ws(' ', round(clm.p_alive(m, i.x, i.t_x, i.t)::numeric, 9),
                           round(clm.expected_purchases(m, 52, i.x, i.t_x, i.t)::numeric, 9),
                           round(clm.clv(m, 52, 0.1, 1, 40, i.x, i.t_x, i.t)::numeric, 6))
          FROM models, profiles, prm, clm.btyd_inputs(p, prm.as_of, 'week') i
          WHERE name IN ('bgnbd', 'mbgnbd', 'paretonbd') AND customer_id % 25 = 0
UNION ALL SELECT 'model gg spend ' || customer_id, round(clm.expected_spend(m, 3, 45.5)::numeric, 9)::text
          FROM models, profiles WHERE name = 'gg' AND customer_id % 50 = 0
UNION ALL SELECT 'model sbg survival', round(clm.survival(m, 5)::numeric, 12)::text FROM models WHERE name = 'sbg'
UNION ALL SELECT 'model bgbb p_alive', round(clm.p_alive(m, 3, 4, 6)::numeric, 12)::text FROM models WHERE name = 'bgbb'
-- RFM breakpoints
UNION ALL SELECT 'breakpoints ' || name || ' text', bp::text FROM breakpoints
UNION ALL SELECT 'breakpoints ' || name || ' binary', md5(clm.rfm_breakpoints_send(bp)) FROM breakpoints
UNION ALL SELECT 'breakpoints ' || name || ' cuts',
                 (SELECT string_agg(c::text, ';' ORDER BY c.score) FROM clm.rfm_cut_points(bp) c) FROM breakpoints
-- the custom segment map
UNION ALL SELECT 'segment map mine', (SELECT string_agg(m::text, ';' ORDER BY m.rule_id) FROM clm.rfm_segment_map m WHERE map_name = 'mine')
UNION ALL SELECT 'segment map mine cells',
                 (SELECT string_agg(c::text, ';' ORDER BY c.r_score, c.f_score, c.m_score) FROM clm.rfm_map_cells('mine') c)
-- stored aggregate results, expanded (with every argument whose default 0.2
-- changed given: clm.customer_stage_rows's population_gap_days, NULL in 0.1)
UNION ALL SELECT 'array ' || name, a::text FROM arrays
UNION ALL SELECT 'array lifecycle rows', (SELECT string_agg(r::text, ';' ORDER BY r.period_start) FROM arrays, clm.lifecycle_rows(a) r WHERE name = 'lifecycle')
UNION ALL SELECT 'array retention rows', (SELECT string_agg(r::text, ';' ORDER BY r::text) FROM arrays, clm.retention_rows(a) r WHERE name = 'retention')
UNION ALL SELECT 'array stage_counts rows', (SELECT string_agg(r::text, ';' ORDER BY r::text) FROM arrays, clm.stage_count_rows(a) r WHERE name = 'stage_counts')
UNION ALL SELECT 'array transition rows', (SELECT string_agg(r::text, ';' ORDER BY r::text) FROM arrays, clm.transition_rows(a) r WHERE name = 'stage_transitions')
UNION ALL SELECT 'array customer_stages rows', (SELECT string_agg(r::text, ';' ORDER BY r::text) FROM arrays, clm.customer_stage_rows(a, population_gap_days => NULL) r WHERE name = 'customer_stages')
UNION ALL SELECT 'array customer_rfm rows', (SELECT string_agg(r::text, ';' ORDER BY r::text) FROM arrays, clm.customer_rfm_rows(a) r WHERE name = 'customer_rfm')
-- the tracked source: its catalog row and what it built (the settings less
-- those added after 0.2, which a source tracked before lacks and reads with
-- their defaults: model_holdout_weeks)
UNION ALL SELECT 'tracked source',
                 concat_ws(' ', name, source, customer_column, time_column, amount_column, channel_column,
                           target_schema, incremental, settings - 'model_holdout_weeks', refreshes, customers)
          FROM clm.tracked_source
UNION ALL SELECT 'tracked profiles', md5(string_agg(customer_id || ' ' || profile::text, ';' ORDER BY customer_id)) FROM shop.profiles
UNION ALL SELECT 'tracked pending', clm.pending_events('shop')::text;

-- what 0.2 added (test/upgrade/setup_0.2.sql), where it was set up: stage
-- rules kept in a table and the stages they give, a contact rule set and who it
-- lets be contacted, the tracked messages and the contact views
SELECT to_regclass('kept_rules') IS NOT NULL AS has_0_2 \gset
\if :has_0_2
CREATE TEMP VIEW upgrade_results_0_2(k, v) AS
SELECT 'stage rules ' || name || ' text', r::text FROM kept_rules
UNION ALL SELECT 'stage rules ' || name || ' binary', md5(record_send(r)) FROM kept_rules
UNION ALL SELECT 'stage rules ' || name || ' stages',
                 md5(string_agg(customer_id || ' ' || clm.stage(p, prm.as_of, r)::text, ';' ORDER BY customer_id))
          FROM kept_rules, profiles, prm GROUP BY name
UNION ALL SELECT 'contact rule set ' || name, concat_ws(' ', rules, description, preset)
          FROM clm.contact_rule_set WHERE NOT preset
UNION ALL SELECT 'contactable ' || ch || ' ' || kind,
                 md5(string_agg(z::text, ';' ORDER BY z.customer_id))
          FROM (VALUES ('email', 'promotion'), ('sms', 'message')) v(ch, kind),
               clm.contactable('shop', ch, kind, 'mine_weekly') z GROUP BY ch, kind
UNION ALL SELECT 'tracked contacts', concat_ws(' ', name, source, customer_column, time_column, channel_column,
                                                campaign_column, opened_column, clicked_column, incremental)
          FROM clm.tracked_contacts
UNION ALL SELECT 'tracked contacts rows', count(*) || ' ' || md5(string_agg(c::text, ';' ORDER BY c::text)) FROM shop.contacts c
UNION ALL SELECT 'contact_pressure', count(*) || ' ' || md5(string_agg(c::text, ';' ORDER BY c::text)) FROM shop.contact_pressure c
UNION ALL SELECT 'contact_best', count(*) || ' ' || md5(string_agg(c::text, ';' ORDER BY c::text)) FROM shop.contact_best c;
\else
CREATE TEMP VIEW upgrade_results_0_2(k, v) AS SELECT NULL::text, NULL::text WHERE false;
\endif
CREATE TEMP VIEW upgrade_results(k, v) AS
SELECT k, v FROM upgrade_results_0_1 UNION ALL SELECT k, v FROM upgrade_results_0_2;
