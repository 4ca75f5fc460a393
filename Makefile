# EventoDB-C: PostgreSQL extension (PGXS) + HTTP gateway + tools.
#
#   make run      install what is missing, build, install, start the local
#                 cluster with the extension and serve the gateway on :8080
#   make test     the same set-up, then the pg_regress + isolation suites and
#                 the gateway's black-box suite
#
# PG_CONFIG may be overridden: make PG_CONFIG=/path/to/pg_config

PG_CONFIG ?= pg_config

# Released versions; the last is the control file's default_version.
EXTVERSIONS = 1.0 1.1
MODULE_big = eventodb
EXT_SRCS = $(sort $(wildcard extension/*.c)) common/token.c common/names.c common/json_escape.c common/md5.c common/consumer_group.c common/sub_names.c
OBJS = $(EXT_SRCS:.c=.o)
# PGXS tracks no header dependencies: a changed struct in a header must
# rebuild every object, or objects of two layouts end up in one library.
EXT_HDRS = $(wildcard extension/*.h common/*.h)
MODULEDIR = extension
DATA = extension/eventodb.control
DATA_built = extension/eventodb--1.0.sql extension/eventodb--1.0--1.1.sql
EXTRA_CLEAN = $(DATA_built) extension/ns_storage_ddl.h
PG_CPPFLAGS = -I$(CURDIR)/common -I$(CURDIR)/extension
SHLIB_LINK = -lcrypto

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=eventodb
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=eventodb

# On a fresh machine pg_config or the server headers may be missing until
# `make deps` ran; run/test install them first and re-invoke make.
PGXS := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))
ifneq ($(PGXS),)
include $(PGXS)
else
all:
endif

# Install and upgrade scripts are assembled from one file per concern, in
# name order (extension/schema/README.md).
extension/eventodb--1.0.sql: $(sort $(wildcard extension/schema/1.0/*.sql))
	cat $^ > $@
extension/eventodb--1.0--1.1.sql: $(sort $(wildcard extension/schema/1.1/*.sql))
	cat $^ > $@

# A namespace's storage is message_store.messages as the scripts define it,
# generated from them (extension/ns_storage_ddl.awk), never a second copy.
NS_DDL_SOURCES = $(foreach v,$(EXTVERSIONS),$(sort $(wildcard extension/schema/$(v)/*.sql)))
extension/ns_storage_ddl.h: extension/ns_storage_ddl.awk $(NS_DDL_SOURCES)
	awk -f extension/ns_storage_ddl.awk $(NS_DDL_SOURCES) > $@.tmp && mv $@.tmp $@
extension/ns_storage.o extension/ns_storage.bc: extension/ns_storage_ddl.h
$(OBJS) $(OBJS:.o=.bc): $(EXT_HDRS)

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
CLUSTER = scripts/cluster.sh
# No single black-box test may hang the suite (CI has a hard limit).
TEST_TIMEOUT ?= 300

.PHONY: deps gateway tools asan run test test-extension test-gateway bench sub-bench deb \
        profile-baseline profile-compare gateway-ab fuzz cluster-start cluster-stop clean-gateway clean-tools

all: gateway tools

gateway:
	$(MAKE) -C gateway PG_CONFIG=$(PG_CONFIG)

asan:
	$(MAKE) -C gateway PG_CONFIG=$(PG_CONFIG) asan

tools:
	$(MAKE) -C scripts/tools load-test

deps:
	scripts/deps.sh

cluster-start: deps
	$(MAKE) all
	$(SUDO) $(MAKE) install
	$(CLUSTER) start

cluster-stop:
	$(CLUSTER) stop

run: cluster-start
	$(CLUSTER) createdb eventodb
	scripts/run-gateway.sh

# The packages are built first: test/test_packages.py installs these.
test: cluster-start
	$(MAKE) deb
	$(MAKE) test-extension
	EVENTODB_DEBS=$(CURDIR)/build/deb $(MAKE) test-gateway

test-extension:
	eval "$$($(CLUSTER) env)" && $(MAKE) installcheck || { cat regression.diffs output_iso/regression.diffs 2>/dev/null | head -200; exit 1; }

test-gateway:
	eval "$$($(CLUSTER) env)" && /usr/bin/python3 -m pytest -q --timeout=$(TEST_TIMEOUT) --timeout-method=thread -ra test

# Debian packages postgresql-15-eventodb and eventodb-gateway into build/deb/,
# lintian-checked (docs/install.md).
deb: deps
	scripts/build/build-deb.sh

bench: cluster-start
	scripts/bench/bench.sh

# Persistent subscriptions: throughput, latency, fetch cost (a private cluster; see scripts/README.md).
sub-bench: all
	$(SUDO) $(MAKE) install
	scripts/bench/sub-bench.py --private-cluster

profile-baseline: deps
	scripts/profile/profile-baseline.sh

profile-compare:
	scripts/profile/profile-compare.sh "$(BASELINE)" "$(OPTIMIZED)"

gateway-ab: deps
	$(MAKE) all
	$(SUDO) $(MAKE) install
	scripts/profile/gateway-ab.sh

fuzz:
	$(MAKE) -C fuzz run

clean: clean-gateway clean-tools
clean-gateway:
	-$(MAKE) -C gateway clean
clean-tools:
	-$(MAKE) -C scripts/tools clean
