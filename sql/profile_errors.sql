--
-- clm.profile: bad inputs get clear errors with real SQLSTATEs.
--
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
CREATE SCHEMA test_profile_errors;
SET search_path = test_profile_errors, public;
\set VERBOSITY sqlstate

-- infinite instants and dates: 22008
SELECT clm.profile(t, 1::numeric) FROM (VALUES ('infinity'::timestamptz)) v(t);
SELECT clm.profile(t, 1::numeric) FROM (VALUES ('-infinity'::timestamp)) v(t);
SELECT clm.profile(t, 1::numeric) FROM (VALUES ('infinity'::date)) v(t);
-- a date beyond the timestamp range: 22008
SELECT clm.profile(t, 1::numeric) FROM (VALUES ('300000-01-01'::date)) v(t);
-- NaN amounts: 22023; infinite amounts: 22003
SELECT clm.profile(now(), 'NaN'::numeric);
SELECT clm.profile(now(), 'NaN'::float8);
SELECT clm.profile(now(), 'Infinity'::numeric);
SELECT clm.profile(now(), '-Infinity'::float8);
-- amounts beyond what 4 decimals in 64 bits hold: 22003
SELECT clm.profile(now(), 922337203685477.5808::numeric);
SELECT clm.profile(now(), -1e300::float8);
SELECT clm.profile(now(), 1e30::numeric);
-- a customer's total absolute spend must fit too: 22003
SELECT clm.profile(t, a) FROM (VALUES ('2025-01-01'::timestamptz, 922337203685477.5807::numeric), ('2025-01-02', 0.0001)) v(t, a);
-- a channel name longer than 64 bytes: 22001
SELECT clm.profile(now(), 1::numeric, repeat('x', 65));
SELECT clm.profile(now(), 1::numeric, repeat('x', 64)) IS NOT NULL AS ok_at_64;
-- the support functions only work inside an aggregate: 0A000
SELECT clm.profile_combine(p, p) FROM (SELECT clm.profile(now(), 1::numeric) p) s;

\set VERBOSITY default
-- corrupt text input: 22P02 with a description of the problem
SELECT ''::clm.profile;
SELECT '{"v":1}'::clm.profile;
SELECT '{"v":2,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- days out of order
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-02 00:00:00+00","days":[["2025-01-02",0,0],["2025-01-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- more orders than events
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",5,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- no day at all
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[],"channels":[],"other":[0,0,null]}'::clm.profile;
-- a day far from the events' instants
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-03-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- invalid dates and times
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-02-30 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 24:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+01","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- spend with 5 decimals, spend out of range, count out of range
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",1,1.00001]],"channels":[],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",1,99999999999999999999]],"channels":[],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":99999999999999999999,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",1,1]],"channels":[],"other":[0,0,null]}'::clm.profile;
-- channels: unsorted, last day not an active day, more purchases than events, bad escape, too long
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[["web",1,0,"2025-01-01"],["app",1,0,"2025-01-01"]],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[["web",1,0,"2025-01-02"]],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[["web",1,2,"2025-01-01"]],"other":[0,0,null]}'::clm.profile;
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[["w\u00e9b",1,0,"2025-01-01"]],"other":[0,0,null]}'::clm.profile;
SELECT ('{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[["' || repeat('x', 65) || '",1,0,"2025-01-01"]],"other":[0,0,null]}')::clm.profile;
-- "other" counted while fewer than 16 channels are kept
SELECT '{"v":1,"events":2,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[1,0,"2025-01-01"]}'::clm.profile;
-- trailing garbage
SELECT '{"v":1,"events":1,"refunds":0,"first_event":"2025-01-01 00:00:00+00","last_event":"2025-01-01 00:00:00+00","days":[["2025-01-01",0,0]],"channels":[],"other":[0,0,null]} x'::clm.profile;
-- and a valid value written by hand, with whitespace, escapes and a year before 1
SELECT '{ "v": 1, "events": 2, "refunds": 1,
          "first_event": "-0044-03-15 12:00:00.5+00", "last_event": "-0044-03-15 13:00:00+00",
          "days": [ ["-0044-03-15", 0, -0.5] ],
          "channels": [ ["a\"b\\c\u0001", 1, 0, "-0044-03-15"] ], "other": [0, 0, null] }'::clm.profile;

-- corrupt binary input: 22P03.  A binary COPY file is written with a large
-- object: header, one row of one field (the profile's binary form), trailer.
CREATE TABLE bin_in (p clm.profile);
CREATE FUNCTION pg_temp.copy_file(payload bytea) RETURNS bytea LANGUAGE sql AS $$
  SELECT '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea
         || '\x0001'::bytea || int4send(length(payload)) || payload || '\xffff'::bytea $$;
CREATE FUNCTION pg_temp.load(payload bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE lo oid;
BEGIN
  lo := lo_from_bytea(0, pg_temp.copy_file(payload));
  PERFORM lo_export(lo, '/tmp/clm_regress_profile.bin');
  PERFORM lo_unlink(lo);
  EXECUTE 'COPY bin_in FROM ''/tmp/clm_regress_profile.bin'' (FORMAT binary)';
END $$;
CREATE TEMP TABLE good AS SELECT clm.profile(t, a, c) AS p
  FROM (VALUES ('2025-01-01 10:00'::timestamptz, 5::numeric, 'web'), ('2025-01-03', NULL, 'app')) v(t, a, c);
-- the valid binary form loads and equals the original
SELECT pg_temp.load(clm.profile_send(p)) FROM good;
SELECT b.p::text = g.p::text AS binary_round_trip FROM bin_in b, good g;
-- Layout (0-based byte offsets): version 0, events 1-8, refunds 9-16,
-- other events 17-24, other purchases 25-32, other last day 33-36,
-- first/last event 37-52, day count 53-56, days 57-88 (2 x 16 bytes),
-- channel count 89-92, first channel name length 93-96.
\set VERBOSITY default
\set SHOW_CONTEXT never
-- truncated
SELECT pg_temp.load(substr(clm.profile_send(p), 1, 40)) FROM good;
-- wrong version byte
SELECT pg_temp.load(set_byte(clm.profile_send(p), 0, 7)) FROM good;
-- events = 0 (byte 8 is the low byte of the event count)
SELECT pg_temp.load(set_byte(clm.profile_send(p), 8, 0)) FROM good;
-- a day count claiming more days than the data holds
SELECT pg_temp.load(set_byte(clm.profile_send(p), 56, 100)) FROM good;
-- a day that is not a valid date
SELECT pg_temp.load(overlay(clm.profile_send(p) placing '\x7fffffff'::bytea from 58 for 4)) FROM good;
-- days out of order: the second day made equal to the first
SELECT pg_temp.load(overlay(clm.profile_send(p) placing substr(clm.profile_send(p), 58, 4) from 74 for 4)) FROM good;
-- a huge channel name length (overlay positions are 1-based)
SELECT pg_temp.load(overlay(clm.profile_send(p) placing '\x7fffffff'::bytea from 94 for 4)) FROM good;
-- a channel count of 17
SELECT pg_temp.load(set_byte(clm.profile_send(p), 92, 17)) FROM good;
-- a channel's last day of -2^31 (bytes 116-119 of the first channel, "app"):
-- not a date, and its day before wraps around; the fuzz found it accepted
SELECT pg_temp.load(overlay(clm.profile_send(p) placing '\x80000000'::bytea from 117 for 4)) FROM good;
-- trailing bytes
SELECT pg_temp.load(clm.profile_send(p) || '\x00'::bytea) FROM good;
SELECT count(*) AS loaded FROM bin_in;
