--
-- When and where (<target>.contact_response_rates, contact_best): response
-- rates by channel, hour and day of week shrunk toward the population's with
-- a prior of 5 messages, worked by hand on two customers.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA cw;
SET search_path = cw, public;
CREATE TABLE orders (customer_id bigint, occurred_at timestamptz, amount numeric);
INSERT INTO orders VALUES (1, '2024-06-01', 10), (2, '2024-06-02', 10), (3, '2024-06-03', 10);
SET client_min_messages = error;
SELECT name FROM clm.track('cw.orders', 'customer_id', 'occurred_at', 'amount',
                           target_schema => 'cw_crm', name => 'cw',
                           settings => '{"as_of": "2025-01-01", "time_zone": "Europe/Paris"}');
RESET client_min_messages;
-- customer 1: 4 emails on Mondays at 09:00 Paris (3 opened), 1 sms on a Friday at 20:00 (not);
-- customer 2: 6 emails on Mondays at 09:00 (none opened), 4 sms on Fridays at 20:00 (2 opened).
-- Population: email 3/10 = 0.3, sms 2/5 = 0.4 (and so hour 9 / Monday 0.3, hour 20 / Friday 0.4).
-- Customer 1: email (3 + 5 x 0.3) / (4 + 5) = 0.5, sms (0 + 5 x 0.4) / (1 + 5) = 0.3333: email, 9, Monday.
-- Customer 2: email (0 + 1.5) / (6 + 5) = 0.1364, sms (2 + 2) / (4 + 5) = 0.4444: sms, 20, Friday.
CREATE TABLE messages (customer_id bigint, sent_at timestamptz, channel text, opened boolean);
INSERT INTO messages
    SELECT 1, timestamptz '2024-12-02 09:00 Europe/Paris' - k * interval '7 days', 'email', k < 3 FROM generate_series(0, 3) k
    UNION ALL SELECT 1, timestamptz '2024-12-06 20:00 Europe/Paris', 'sms', false
    UNION ALL SELECT 2, timestamptz '2024-12-02 09:00 Europe/Paris' - k * interval '7 days', 'email', false FROM generate_series(0, 5) k
    UNION ALL SELECT 2, timestamptz '2024-12-06 20:00 Europe/Paris' - k * interval '7 days', 'sms', k < 2 FROM generate_series(0, 3) k;
SELECT clm.track_contacts('cw', 'cw.messages', 'customer_id', 'sent_at', channel_column => 'channel',
                          opened_column => 'opened');
SELECT customer_id, dimension, value, messages, responses, population_rate,
       round(response_rate::numeric, 4) AS response_rate, rank
  FROM cw_crm.contact_response_rates ORDER BY 1, 2, 3;
SELECT * FROM cw_crm.contact_best ORDER BY 1;
SELECT clm.untrack('cw');
DROP SCHEMA cw CASCADE;
