-- clm upgrade script 0.2 -> 0.3, assembled by the Makefile from
-- src/upgrade/0.2--0.3/*.sql (one file per change, concatenated in name order;
-- each change's fragment is named NN_name.sql, a new file of src/sql/ comes
-- from a link to it).
-- complain if the script is sourced in psql rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION clm UPDATE TO '0.3'" to load this file. \quit
