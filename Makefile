# clm: customer lifecycle analytics for PostgreSQL (PGXS build)
#
#   make && make install        build and install into the pg_config found
#   make installcheck           pg_regress suite against a running server
#   make unittest               C unit tests of the numerical core (no server)
#
# The install script clm--$(EXTVERSION).sql is assembled from src/sql/*.sql
# (one file per capability, concatenated in name order); the upgrade script
# from the previous version, clm--$(PREVVERSION)--$(EXTVERSION).sql, from
# src/upgrade/$(PREVVERSION)--$(EXTVERSION)/*.sql and *.replace (new objects
# come from links to their src/sql file, changed functions from a .replace
# list that takes their definition from src/sql, other changes from a
# fragment of their own; src/upgrade/assemble.sh).  Released
# install and upgrade scripts (clm--0.1.sql, ...) are kept as they were
# released: when a version is released, its assembled scripts are committed as
# files (as clm--0.1.sql was) and the fragment folder goes, so that a later
# change to src/sql cannot change an upgrade script that users already ran.
# Released and frozen: clm--0.1.sql, clm--0.2.sql, clm--0.1--0.2.sql (installed
# through DATA, untouched by make clean).  At the next release (0.3): commit
# the assembled clm--0.3.sql and clm--0.2--0.3.sql as files, remove
# src/upgrade/0.2--0.3 and their lines in .gitignore, set default_version in
# clm.control to the next version and PREVVERSION here to 0.3, start
# src/upgrade/0.3--NEXT with a head and a link to src/sql/01_guard.sql, and
# test both update paths (test/upgrade, docs/upgrading.md).

EXTENSION   = clm
EXTVERSION  = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" clm.control)
MODULE_big  = clm
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/core/*.c)))
PREVVERSION = 0.2
UPGRADE     = clm--$(PREVVERSION)--$(EXTVERSION).sql
DATA_built  = clm--$(EXTVERSION).sql $(UPGRADE)
DATA        = $(filter-out $(DATA_built),$(wildcard clm--*.sql clm--*.control))
PGFILEDESC  = "clm - customer lifecycle analytics"

SQL_PARTS   = $(sort $(wildcard src/sql/*.sql))

# Regression tests: every sql/NAME.sql.  Tests named data_* read the reference
# data in $(CLM_DATA_DIR) (default ../shared/data) and run only when it exists.
CLM_DATA_DIR ?= $(abspath $(CURDIR)/../shared/data)
ALL_TESTS   = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
DATA_TESTS  = $(filter data_%,$(ALL_TESTS))
ifneq ($(wildcard $(CLM_DATA_DIR)/CDNOW_sample.txt),)
REGRESS     = $(ALL_TESTS)
else
REGRESS     = $(filter-out $(DATA_TESTS),$(ALL_TESTS))
endif
REGRESS_OPTS = --load-extension=clm
export CLM_DATA_DIR

# Isolation specs (concurrency): every specs/NAME.spec, expected output in
# expected/NAME.out (so NAME must differ from every sql/NAME.sql).  make
# installcheck runs them with pg_isolation_regress after the regression tests,
# in a database of their own with clm created (PGXS adds --dbname).
ISOLATION   = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=clm

PG_CPPFLAGS = -I$(srcdir)/src -I$(srcdir)/src/core
PG_CFLAGS  += -std=gnu99

EXTRA_CLEAN = test/unit/run_unit_tests test/unit/*.o

PG_CONFIG  ?= pg_config
PGXS       := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object depends on the headers (PGXS does not track them)
$(OBJS): $(wildcard src/*.h src/core/*.h)

# The objects live in the schema clm, which the install script creates (so it
# is a member of the extension); the extension's own schema is pg_catalog (see
# clm.control), so @extschema@ is written out as clm here.
clm--$(EXTVERSION).sql: $(SQL_PARTS) clm.control
	sed 's/@extschema@/clm/g' $(SQL_PARTS) > $@

# (NAME.replace parts name functions that src/upgrade/assemble.sh copies from
# src/sql as CREATE OR REPLACE: a changed function is defined once)
UPGRADE_PARTS = $(sort $(wildcard src/upgrade/$(PREVVERSION)--$(EXTVERSION)/*.sql src/upgrade/$(PREVVERSION)--$(EXTVERSION)/*.replace))
$(UPGRADE): $(UPGRADE_PARTS) $(SQL_PARTS) src/upgrade/assemble.sh clm.control
	sh src/upgrade/assemble.sh $(UPGRADE_PARTS) > $@.tmp
	sed 's/@extschema@/clm/g' $@.tmp > $@
	rm -f $@.tmp

# C unit tests of the numerical core: plain C, no server needed
UNIT_SRCS   = $(sort $(wildcard test/unit/*.c))
CORE_SRCS   = $(sort $(wildcard src/core/*.c))
test/unit/run_unit_tests: $(UNIT_SRCS) $(CORE_SRCS) $(wildcard src/core/*.h)
	$(CC) -std=gnu99 -O2 -Wall -Wextra -Wno-unused-parameter $(UNIT_CFLAGS) -Isrc/core -o $@ $(UNIT_SRCS) $(CORE_SRCS) -lm

.PHONY: unittest
unittest: test/unit/run_unit_tests
	CLM_DATA_DIR=$(CLM_DATA_DIR) test/unit/run_unit_tests
