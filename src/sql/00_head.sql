-- clm install script (current version), assembled by the Makefile from src/sql/*.sql.
-- complain if the script is sourced in psql rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION clm" to load this file. \quit

-- The schema clm is made here, so that it is a member of the extension and
-- DROP EXTENSION clm removes it (the extension's own schema is pg_catalog, see
-- clm.control); it fails if a schema clm exists already.  Its owner is the
-- role running this script; when that is not the role installing clm (a
-- trusted install by a non-superuser runs as the bootstrap superuser), the
-- installing role gets USAGE with GRANT OPTION, to pass on to the users of clm.
CREATE SCHEMA @extschema@;
COMMENT ON SCHEMA @extschema@ IS 'clm: customer lifecycle analytics (profiles, RFM, stages, CLV and churn models)';
DO $$
DECLARE
    installer oid := (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'clm');
BEGIN
    IF installer <> (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm') THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA clm TO %I WITH GRANT OPTION',
                                  pg_catalog.pg_get_userbyid(installer));
    END IF;
END
$$;
