
-- Security guard of the install script and of the upgrade scripts (this file
-- is src/upgrade/0.2--0.3/01_guard.sql too, a link: the Makefile assembles it
-- into both; the released clm--0.1--0.2.sql holds 0.2's copy).  See
-- docs/upgrading.md, "Trusted install".  clm is trusted: a database owner
-- without superuser may run CREATE EXTENSION clm and, as the extension's
-- owner, ALTER EXTENSION clm UPDATE; the script then runs as the
-- bootstrap superuser, and must not be steerable by objects that role controls:
--  * the schema @extschema@ may exist before CREATE EXTENSION, and belongs to
--    the installing role afterwards (CREATE EXTENSION creates it as that
--    role): objects in it owned by a role that is not a superuser could
--    capture the name lookups of the script (a better-matching function or
--    operator), so the script refuses to run over them (clm's own objects
--    belong to a superuser);
--  * the rest of the script runs with search_path = pg_catalog, pg_temp (the
--    practice of the contrib modules): every reference to an object of clm is
--    written @extschema@.name, so no name resolves through a schema a
--    non-superuser can write to.  SET LOCAL: the setting ends with the script.
DO $guard$
DECLARE
    found text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (owner %s)', i.type, i.identity, r.rolname), ', ')
      INTO found
      FROM (SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS cls, c.oid, c.relowner AS owner
              FROM pg_catalog.pg_class AS c WHERE c.relnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_proc', p.oid, p.proowner
              FROM pg_catalog.pg_proc AS p WHERE p.pronamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_type', t.oid, t.typowner
              FROM pg_catalog.pg_type AS t WHERE t.typnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_operator', o.oid, o.oprowner
              FROM pg_catalog.pg_operator AS o WHERE o.oprnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_opfamily', f.oid, f.opfowner
              FROM pg_catalog.pg_opfamily AS f WHERE f.opfnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_collation', l.oid, l.collowner
              FROM pg_catalog.pg_collation AS l WHERE l.collnamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
            UNION ALL
            SELECT 'pg_catalog.pg_conversion', v.oid, v.conowner
              FROM pg_catalog.pg_conversion AS v WHERE v.connamespace OPERATOR(pg_catalog.=) '@extschema@'::pg_catalog.regnamespace
           ) AS o
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) o.owner,
      LATERAL pg_catalog.pg_identify_object(o.cls, o.oid, 0) AS i
     WHERE NOT r.rolsuper;
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'schema @extschema@ holds objects of a role that is not a superuser: %', found
            USING ERRCODE = '42501',
                  HINT = 'Drop them or move them to another schema (ALTER ... SET SCHEMA), then run the command again.';
    END IF;
END
$guard$;
SET LOCAL search_path = pg_catalog, pg_temp;
