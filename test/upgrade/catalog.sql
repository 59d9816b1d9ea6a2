-- test/upgrade/catalog.sql: a description of every object a clm installation
-- made in this database, one row per (object, attribute, value), with no OID
-- in it (names, signatures and deparsed expressions instead), so that two
-- databases (a fresh CREATE EXTENSION clm, and 0.1 then ALTER EXTENSION clm
-- UPDATE) can be compared row by row: a row present on one side only, or with
-- another value, names the object and the attribute that differ.
--
-- Covers every object with an OID from FirstNormalObjectId (16384) on in the
-- catalogs an extension script can write (the test databases hold nothing but
-- the extension): schemas, functions and aggregates (every pg_proc and
-- pg_aggregate field, with the body, the SET options, the defaults), types
-- (every pg_type field, composite attributes, enum labels, ranges), relations
-- (every pg_class field that is not storage or statistics, columns, defaults,
-- constraints, indexes, triggers, rules and view definitions, policies, the
-- rows of the extension's own tables), operators, operator classes and
-- families with their members, casts, comments (pg_description), grants
-- (the ACLs and pg_init_privs), extension membership (pg_depend 'e') and the
-- extension row itself (version aside: the caller leaves it out).
--
-- Output: COPY text rows "object <TAB> attribute <TAB> value".  Helper
-- functions live in pg_temp: nothing is left behind.

-- j without the keys of the OID-like or varying columns of catalog cat
-- (those are given by name in the queries below, or are storage details)
CREATE FUNCTION pg_temp.plain(j jsonb, cat regclass) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT $1 - coalesce(array_agg(a.attname::text), '{}')
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = $2 AND a.attnum > 0
      AND (a.atttypid IN ('oid'::regtype, 'regproc'::regtype, 'regtype'::regtype,
                          'oidvector'::regtype, 'oid[]'::regtype, 'regclass'::regtype,
                          'pg_node_tree'::regtype, 'xid'::regtype, 'int2vector'::regtype)
           OR a.attname IN ('relpages', 'reltuples', 'relallvisible', 'relallfrozen',
                            'relnatts', 'attnum', 'relhasindex', 'relhassubclass'))
$$;

-- the name of an object of a catalog, as pg_identify_object gives it
CREATE FUNCTION pg_temp.ident(cat regclass, o oid, sub int DEFAULT 0) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT i.type || ' ' || i.identity FROM pg_catalog.pg_identify_object($1, $2, $3) i
$$;

-- md5 of the rows of a table, sorted by their text form
CREATE FUNCTION pg_temp.contents(t regclass) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    m text;
BEGIN
    EXECUTE format('SELECT md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), '''')) FROM %s x', t)
        INTO m;
    RETURN m;
END
$$;

CREATE TEMP VIEW clm_catalog AS
WITH
ext AS (SELECT * FROM pg_catalog.pg_extension WHERE extname = 'clm'),
member AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
nsp AS (
    SELECT n.* FROM pg_catalog.pg_namespace n
    WHERE n.oid >= 16384 AND n.nspname !~ '^pg_(toast_)?temp_' AND n.nspname <> 'pg_toast'),
proc AS (SELECT p.* FROM pg_catalog.pg_proc p WHERE p.oid >= 16384
         AND p.pronamespace <> pg_catalog.pg_my_temp_schema()),
typ AS (SELECT t.* FROM pg_catalog.pg_type t WHERE t.oid >= 16384
        AND t.typnamespace IN (SELECT oid FROM nsp)),
rel AS (SELECT c.* FROM pg_catalog.pg_class c WHERE c.oid >= 16384
        AND c.relnamespace IN (SELECT oid FROM nsp)),
rows(object, attribute, value) AS (
    -- the extension itself
    SELECT 'extension clm', k, v
    FROM ext, jsonb_each_text(jsonb_build_object(
        'owner', ext.extowner::regrole::text,
        'version', ext.extversion,
        'schema', ext.extnamespace::regnamespace::text,
        'relocatable', ext.extrelocatable,
        'configuration tables', (SELECT array_agg(c::regclass::text ORDER BY c::regclass::text)
                                 FROM unnest(ext.extconfig) c),
        'configuration conditions', (SELECT array_agg(x ORDER BY x)
                                     FROM unnest(ext.extcondition) x))) e(k, v)
    UNION ALL
    -- membership
    SELECT pg_temp.ident(m.classid, m.objid), 'extension member', 'yes' FROM member m
    UNION ALL
    -- schemas
    SELECT pg_temp.ident('pg_namespace', n.oid), k, v
    FROM nsp n, jsonb_each_text(pg_temp.plain(to_jsonb(n), 'pg_namespace') || jsonb_build_object(
        'owner', n.nspowner::regrole::text)) e(k, v)
    UNION ALL
    -- functions, procedures, aggregates
    SELECT pg_temp.ident('pg_proc', p.oid), k, v
    FROM proc p, jsonb_each_text(pg_temp.plain(to_jsonb(p), 'pg_proc') || jsonb_build_object(
        'schema', p.pronamespace::regnamespace::text,
        'owner', p.proowner::regrole::text,
        'language', (SELECT lanname FROM pg_catalog.pg_language WHERE oid = p.prolang),
        'variadic', nullif(p.provariadic, 0)::regtype::text,
        'support function', nullif(p.prosupport, 0)::regprocedure::text,
        'result', pg_catalog.pg_get_function_result(p.oid),
        'arguments (names, modes, defaults)', pg_catalog.pg_get_function_arguments(p.oid),
        'SQL body (BEGIN ATOMIC)', CASE WHEN p.prosqlbody IS NOT NULL
                                        THEN pg_catalog.pg_get_function_sqlbody(p.oid) END,
        'transform types', p.protrftypes::regtype[]::text)) e(k, v)
    UNION ALL
    SELECT pg_temp.ident('pg_proc', a.aggfnoid), k, v
    FROM pg_catalog.pg_aggregate a JOIN proc p ON p.oid = a.aggfnoid,
         jsonb_each_text(pg_temp.plain(to_jsonb(a), 'pg_aggregate') || jsonb_build_object(
        'aggtransfn', nullif(a.aggtransfn, 0)::regprocedure::text,
        'aggfinalfn', nullif(a.aggfinalfn, 0)::regprocedure::text,
        'aggcombinefn', nullif(a.aggcombinefn, 0)::regprocedure::text,
        'aggserialfn', nullif(a.aggserialfn, 0)::regprocedure::text,
        'aggdeserialfn', nullif(a.aggdeserialfn, 0)::regprocedure::text,
        'aggmtransfn', nullif(a.aggmtransfn, 0)::regprocedure::text,
        'aggminvtransfn', nullif(a.aggminvtransfn, 0)::regprocedure::text,
        'aggmfinalfn', nullif(a.aggmfinalfn, 0)::regprocedure::text,
        'aggsortop', nullif(a.aggsortop, 0)::regoperator::text,
        'aggtranstype', nullif(a.aggtranstype, 0)::regtype::text,
        'aggmtranstype', nullif(a.aggmtranstype, 0)::regtype::text)) e(k, v)
    UNION ALL
    -- types (composite attributes come with the relation of the type)
    SELECT pg_temp.ident('pg_type', t.oid), k, v
    FROM typ t, jsonb_each_text(pg_temp.plain(to_jsonb(t), 'pg_type') || jsonb_build_object(
        'schema', t.typnamespace::regnamespace::text,
        'owner', t.typowner::regrole::text,
        'relation', nullif(t.typrelid, 0)::regclass::text,
        'element', nullif(t.typelem, 0)::regtype::text,
        'array type', nullif(t.typarray, 0)::regtype::text,
        'typinput', nullif(t.typinput, 0)::regprocedure::text,
        'typoutput', nullif(t.typoutput, 0)::regprocedure::text,
        'typreceive', nullif(t.typreceive, 0)::regprocedure::text,
        'typsend', nullif(t.typsend, 0)::regprocedure::text,
        'typmodin', nullif(t.typmodin, 0)::regprocedure::text,
        'typmodout', nullif(t.typmodout, 0)::regprocedure::text,
        'typanalyze', nullif(t.typanalyze, 0)::regprocedure::text,
        'typsubscript', nullif(to_jsonb(t) ->> 'typsubscript', '-')::regproc::oid::regprocedure::text,
        'base type', nullif(t.typbasetype, 0)::regtype::text,
        'collation', nullif(t.typcollation, 0)::regcollation::text,
        'default', t.typdefault,
        'enum labels', (SELECT string_agg(enumlabel::text, ', ' ORDER BY enumsortorder)
                        FROM pg_catalog.pg_enum WHERE enumtypid = t.oid))) e(k, v)
    UNION ALL
    -- relations: tables, views, materialised views, indexes, sequences, composite types
    SELECT pg_temp.ident('pg_class', c.oid), k, v
    FROM rel c, jsonb_each_text(pg_temp.plain(to_jsonb(c), 'pg_class') || jsonb_build_object(
        'schema', c.relnamespace::regnamespace::text,
        'owner', c.relowner::regrole::text,
        'of type', nullif(c.reloftype, 0)::regtype::text,
        'access method', (SELECT amname FROM pg_catalog.pg_am WHERE oid = c.relam),
        'has TOAST table', c.reltoastrelid <> 0,
        'view definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END,
        'index definition', CASE WHEN c.relkind IN ('i', 'I') THEN pg_catalog.pg_get_indexdef(c.oid) END,
        'columns in order', (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                             FROM pg_catalog.pg_attribute
                             WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped))) e(k, v)
    WHERE c.relkind <> 't'
    UNION ALL
    SELECT pg_temp.ident('pg_class', a.attrelid, a.attnum), k, v
    FROM pg_catalog.pg_attribute a JOIN rel c ON c.oid = a.attrelid,
         jsonb_each_text(pg_temp.plain(to_jsonb(a), 'pg_attribute') || jsonb_build_object(
        -- this server stamps every new column with an option pg_attver=<counter>
        -- (not an option of clm's): left out
        'attoptions', (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) o
                       WHERE o NOT LIKE 'pg\_attver=%'),
        'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
        'collation', nullif(a.attcollation, 0)::regcollation::text,
        'default', (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
                    WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum))) e(k, v)
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind <> 't'
    UNION ALL
    SELECT pg_temp.ident('pg_constraint', k.oid), e.k, e.v
    FROM pg_catalog.pg_constraint k,
         jsonb_each_text(pg_temp.plain(to_jsonb(k), 'pg_constraint') || jsonb_build_object(
        'definition', pg_catalog.pg_get_constraintdef(k.oid))) e(k, v)
    WHERE k.oid >= 16384 AND k.connamespace IN (SELECT oid FROM nsp)
    UNION ALL
    SELECT pg_temp.ident('pg_trigger', g.oid), 'definition', pg_catalog.pg_get_triggerdef(g.oid)
    FROM pg_catalog.pg_trigger g WHERE g.oid >= 16384 AND NOT g.tgisinternal
    UNION ALL
    SELECT pg_temp.ident('pg_rewrite', r.oid), e.k, e.v
    FROM pg_catalog.pg_rewrite r JOIN rel c ON c.oid = r.ev_class,
         jsonb_each_text(pg_temp.plain(to_jsonb(r), 'pg_rewrite') || jsonb_build_object(
        'definition', CASE WHEN r.rulename <> '_RETURN' THEN pg_catalog.pg_get_ruledef(r.oid, true) END)) e(k, v)
    UNION ALL
    SELECT pg_temp.ident('pg_policy', p.oid), e.k, e.v
    FROM pg_catalog.pg_policy p,
         jsonb_each_text(pg_temp.plain(to_jsonb(p), 'pg_policy') || jsonb_build_object(
        'roles', (SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END, ', ' ORDER BY 1)
                  FROM unnest(p.polroles) r),
        'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),
        'with check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))) e(k, v)
    WHERE p.oid >= 16384
    UNION ALL
    -- the rows of the extension's own tables (the preset RFM maps, ...)
    SELECT pg_temp.ident('pg_class', c.oid), 'contents (md5 of the sorted rows)', pg_temp.contents(c.oid)
    FROM rel c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    WHERE c.relkind = 'r'
    UNION ALL
    -- operators
    SELECT pg_temp.ident('pg_operator', o.oid), k, v
    FROM pg_catalog.pg_operator o,
         jsonb_each_text(pg_temp.plain(to_jsonb(o), 'pg_operator') || jsonb_build_object(
        'schema', o.oprnamespace::regnamespace::text,
        'owner', o.oprowner::regrole::text,
        'left', nullif(o.oprleft, 0)::regtype::text,
        'right', nullif(o.oprright, 0)::regtype::text,
        'result', nullif(o.oprresult, 0)::regtype::text,
        'commutator', nullif(o.oprcom, 0)::regoperator::text,
        'negator', nullif(o.oprnegate, 0)::regoperator::text,
        'function', nullif(o.oprcode, 0)::regprocedure::text,
        'restriction', nullif(o.oprrest, 0)::regprocedure::text,
        'join', nullif(o.oprjoin, 0)::regprocedure::text)) e(k, v)
    WHERE o.oid >= 16384
    UNION ALL
    -- operator classes, families and their members
    SELECT pg_temp.ident('pg_opclass', o.oid), k, v
    FROM pg_catalog.pg_opclass o,
         jsonb_each_text(pg_temp.plain(to_jsonb(o), 'pg_opclass') || jsonb_build_object(
        'family', pg_temp.ident('pg_opfamily', o.opcfamily),
        'input type', o.opcintype::regtype::text,
        'key type', nullif(o.opckeytype, 0)::regtype::text)) e(k, v)
    WHERE o.oid >= 16384
    UNION ALL
    SELECT pg_temp.ident('pg_opfamily', f.oid), 'exists', 'yes'
    FROM pg_catalog.pg_opfamily f WHERE f.oid >= 16384
    UNION ALL
    SELECT pg_temp.ident('pg_amop', o.oid), 'purpose/sort family', o.amoppurpose::text || ' ' || coalesce(nullif(o.amopsortfamily, 0)::text, '-')
    FROM pg_catalog.pg_amop o WHERE o.oid >= 16384
    UNION ALL
    SELECT pg_temp.ident('pg_amproc', o.oid), 'exists', 'yes'
    FROM pg_catalog.pg_amproc o WHERE o.oid >= 16384
    UNION ALL
    -- casts from or to a type of the extension, or through one of its functions
    SELECT pg_temp.ident('pg_cast', k.oid), e.k, e.v
    FROM pg_catalog.pg_cast k,
         jsonb_each_text(pg_temp.plain(to_jsonb(k), 'pg_cast') || jsonb_build_object(
        'function', nullif(k.castfunc, 0)::regprocedure::text)) e(k, v)
    WHERE k.oid >= 16384
    UNION ALL
    -- comments
    SELECT pg_temp.ident(d.classoid, d.objoid, d.objsubid), 'COMMENT', d.description
    FROM pg_catalog.pg_description d WHERE d.objoid >= 16384
    UNION ALL
    -- the initial privileges pg_dump relies on
    SELECT pg_temp.ident(i.classoid, i.objoid, i.objsubid), 'initial privileges (pg_init_privs, ' || i.privtype::text || ')',
           i.initprivs::text
    FROM pg_catalog.pg_init_privs i WHERE i.objoid >= 16384
)
SELECT object, attribute, value FROM rows WHERE value IS NOT NULL;
