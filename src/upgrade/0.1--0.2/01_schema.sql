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
