-- The schema clm becomes a member of the extension, so that DROP EXTENSION
-- clm removes it, as on a fresh 0.2 install: 0.1 named it in its control
-- file, which made PostgreSQL create it outside the extension as the
-- extension's schema, and a schema holding its own extension cannot be a
-- member.  So the extension's schema becomes pg_catalog (as clm.control says
-- from 0.2 on; pg_catalog is pinned: no dependency is recorded on it) and
-- then clm is added.  The objects stay where they are.
DELETE FROM pg_catalog.pg_depend d
 WHERE d.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND d.objid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'clm')
   AND d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
   AND d.refobjid = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
UPDATE pg_catalog.pg_extension
   SET extnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'pg_catalog')
 WHERE extname = 'clm';
ALTER EXTENSION clm ADD SCHEMA clm;
-- As on a fresh install, the schema belongs to the role running the script (a
-- superuser; the bootstrap superuser when the update runs trusted) and the
-- extension's owner has USAGE with GRANT OPTION.  A 0.1 installed by a
-- database owner without superuser (trusted) had the schema made by, and
-- owned by, that role.
DO $$
DECLARE
    installer oid := (SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.extname = 'clm');
    nsp_owner oid := (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = nsp_owner) THEN
        EXECUTE pg_catalog.format('ALTER SCHEMA clm OWNER TO %I', current_user);
        nsp_owner := (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'clm');
    END IF;
    IF installer <> nsp_owner THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA clm TO %I WITH GRANT OPTION',
                                  pg_catalog.pg_get_userbyid(installer));
    END IF;
END
$$;
