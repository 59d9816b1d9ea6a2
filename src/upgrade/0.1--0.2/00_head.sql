-- clm upgrade script 0.1 -> 0.2, assembled by the Makefile from
-- src/upgrade/0.1--0.2/*.sql (one file per change, concatenated in name order).
-- complain if the script is sourced in psql rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION clm UPDATE TO '0.2'" to load this file. \quit
