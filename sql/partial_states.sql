--
-- Partial states as Citus moves them: a worker prints its partial state with
-- the state type's text output, the coordinator reads it back with the text
-- input and merges with the combine function.  The per-customer states of
-- clm.customer_stages and clm.customer_rfm carry exactly their records
-- (no spare capacity in the printed text), and the round trip through text
-- gives the aggregate's own result.
--
SET TimeZone = 'UTC';
CREATE SCHEMA test_partial_states;
SET search_path = test_partial_states, public;

CREATE TABLE pr AS
  SELECT customer_id, clm.profile(occurred_at, amount, channel) AS p
  FROM clm.generate_events(300, seed => 5) GROUP BY customer_id;

-- the raw (partial) states: aggregates with the transition function and no
-- final function, over two halves of the customers, as two shards would
CREATE AGGREGATE stages_state(bigint, clm.profile, date) (
  SFUNC = clm.customer_stages_trans, STYPE = bigint[]);
CREATE AGGREGATE rfm_state(bigint, clm.profile, date) (
  SFUNC = clm.customer_rfm_trans, STYPE = bigint[]);
CREATE TABLE shard_states AS
  SELECT customer_id % 2 AS shard,
         stages_state(customer_id, p, '2024-12-31')::text AS stages,
         rfm_state(customer_id, p, '2024-12-31')::text AS rfm,
         count(*) AS customers
  FROM pr GROUP BY 1;

-- the text holds the header (4 elements: kind, records, as_of, width) and
-- the records, nothing more: 4 + width * records elements; every customer
-- has a record in clm.customer_stages, the buyers in clm.customer_rfm
SELECT shard, customers,
       array_length(stages::bigint[], 1) = 4 + (stages::bigint[])[4] * (stages::bigint[])[2] AS stages_exact,
       (stages::bigint[])[2] = customers AS stages_all,
       array_length(rfm::bigint[], 1) = 4 + (rfm::bigint[])[4] * (rfm::bigint[])[2] AS rfm_exact,
       (rfm::bigint[])[2] = (SELECT count(*) FROM pr WHERE customer_id % 2 = shard
                             AND (clm.summary(p, '2024-12-31')).orders > 0) AS rfm_buyers
FROM shard_states ORDER BY shard;

-- read back and combined (the coordinator's step), then the final function:
-- the same customers and results as the aggregate over all customers
CREATE AGGREGATE combine_stages(bigint[]) (
  SFUNC = clm.customer_stages_combine, STYPE = bigint[], FINALFUNC = clm.customer_stages_final);
CREATE AGGREGATE combine_rfm(bigint[]) (
  SFUNC = clm.customer_rfm_combine, STYPE = bigint[], FINALFUNC = clm.customer_rfm_final);
SELECT (SELECT array_agg(r ORDER BY r.customer_id)::text FROM clm.customer_stage_rows(
          (SELECT combine_stages(stages::bigint[]) FROM shard_states)) r)
     = (SELECT array_agg(r ORDER BY r.customer_id)::text FROM clm.customer_stage_rows(
          (SELECT clm.customer_stages(customer_id, p, '2024-12-31') FROM pr)) r) AS stages_equal,
       (SELECT array_agg(r ORDER BY r.customer_id)::text FROM clm.customer_rfm_rows(
          (SELECT combine_rfm(rfm::bigint[]) FROM shard_states)) r)
     = (SELECT array_agg(r ORDER BY r.customer_id)::text FROM clm.customer_rfm_rows(
          (SELECT clm.customer_rfm(customer_id, p, '2024-12-31') FROM pr)) r) AS rfm_equal,
       (SELECT count(*) FROM clm.customer_rfm_rows(
          (SELECT combine_rfm(rfm::bigint[]) FROM shard_states))) AS customers;

-- a state with spare elements past its last record (as 0.1 built them) is
-- still read: combined with shard 0's state it gives shard 0's customers
SELECT count(*) AS customers
FROM clm.customer_stage_rows(clm.customer_stages_final(clm.customer_stages_combine(
       '{101,0,9131,4,0,0,0,0,0,0,0,0}'::bigint[],
       (SELECT stages::bigint[] FROM shard_states WHERE shard = 0))));

DROP SCHEMA test_partial_states CASCADE;
