-- clm install script (current version), assembled by the Makefile from src/sql/*.sql.
-- complain if the script is sourced in psql rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION clm" to load this file. \quit

COMMENT ON SCHEMA @extschema@ IS 'clm: customer lifecycle analytics (profiles, RFM, stages, CLV and churn models)';
