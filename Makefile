# synkronus-fcgi: the only build entry.
# Targets: all, deps, run, run-clean, run-cluster, test, test-browser, test-cluster, check, test-sanitize, fuzz,
# fuzz-ci, asan-build, fuzz-build, bench, bench-cluster, deb, test-deb, test-systemd, test-upgrade, install, clean.

CXX      ?= g++
CXXFLAGS ?= -O2 -g
# The flags every C++ compile needs, whichever compiler (the fuzz build uses clang).
LANG_FLAGS := -std=c++20 -Wall -Wextra -Werror=return-type -pipe -I. -DRAPIDJSON_HAS_STDSTRING=1
CXXFLAGS += $(LANG_FLAGS)
CPPFLAGS ?=
LDFLAGS  ?=
# Instrumentation for both compiling and linking (`make test-sanitize` sets it).
SANITIZE_FLAGS ?=
CXXFLAGS += $(SANITIZE_FLAGS)
LDFLAGS  += $(SANITIZE_FLAGS)
LIBS     := -lfcgi -lmysqlcppconn -lssl -lcrypto -lzip -lz -lsnappy -lqrencode -largon2 -lpthread

PREFIX   ?= /usr
SYSCONFDIR ?= /etc
UNITDIR  ?= /lib/systemd/system
DESTDIR  ?=
BUILD    := build

# Debian packages the build, the tests and `make run` need.
DEPS_PKGS := g++ make pkg-config libfcgi-dev rapidjson-dev libmysqlcppconn-dev libssl-dev \
             libzip-dev zlib1g-dev libsnappy-dev libqrencode-dev libargon2-dev libboost-test-dev libyaml-cpp-dev mariadb-server mariadb-client nginx-light \
             galera-4 mariadb-backup socat \
             openssl curl python3 zip unzip wrk debhelper devscripts lintian fakeroot systemd ssl-cert \
             debootstrap systemd-container clang libclang-rt-14-dev
# The console's browser tests (make test-browser): Debian's chromium, its driver, selenium.
DEPS_PKGS += chromium chromium-driver python3-selenium

# Two archives, so the layers show in the link: synkronus-admin links only the
# lower one (core, domain, db, services) and cannot come to depend on handlers/.
LIB_SRCS  := $(wildcard core/*.cpp) $(wildcard domain/*.cpp) $(wildcard db/*.cpp) $(wildcard services/*.cpp)
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
HANDLER_SRCS := $(filter-out handlers/main.cpp,$(wildcard handlers/*.cpp))
HANDLER_OBJS := $(HANDLER_SRCS:%.cpp=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.cpp)
UNIT_OBJS := $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o)
BENCH_SRCS := $(wildcard bench/*.cpp)

SERVER := $(BUILD)/synkronus-fcgi
ADMIN  := $(BUILD)/synkronus-admin
UNIT   := $(BUILD)/unit-tests

.PHONY: all deps run run-clean run-cluster run-cluster-clean test test-browser test-cluster check \
        integration test-sanitize asan-build fuzz-build fuzz fuzz-ci bench bench-cluster bench-export \
        jsreaders deb test-deb test-systemd test-upgrade install clean bench-admin bench-profile

all: $(SERVER) $(ADMIN)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: CPPFLAGS += -DBOOST_TEST_DYN_LINK

# The OpenAPI document is linked in with .incbin; version facts for GET /version.
VERSION      := $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog 2>/dev/null)
# A package is built from a copy without .git: packaging/build-deb.sh leaves the commit in .build-commit.
BUILD_COMMIT := $(shell cat .build-commit 2>/dev/null || git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_TIME   := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ)
$(BUILD)/obj/handlers/meta.o: handlers/openapi.yaml
$(BUILD)/obj/handlers/meta.o: CPPFLAGS += -DSYNKRONUS_VERSION='"$(or $(VERSION),0.0.0)"' \
    -DSYNKRONUS_COMMIT='"$(BUILD_COMMIT)"' -DSYNKRONUS_BUILD_TIME='"$(BUILD_TIME)"'

$(BUILD)/libsynkronus.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(BUILD)/libsynkronus-handlers.a: $(HANDLER_OBJS)
	@mkdir -p $(dir $@)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(SERVER): $(BUILD)/obj/handlers/main.o $(BUILD)/libsynkronus-handlers.a $(BUILD)/libsynkronus.a
	@echo "  LD      $@"
	@$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(ADMIN): $(BUILD)/obj/tools/admin_main.o $(BUILD)/libsynkronus.a
	@echo "  LD      $@"
	@$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# yaml-cpp only here: the OpenAPI test reads the document as YAML.
$(UNIT): $(UNIT_OBJS) $(BUILD)/libsynkronus-handlers.a $(BUILD)/libsynkronus.a
	@echo "  LD      $@"
	@$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lboost_unit_test_framework -lyaml-cpp

-include $(LIB_OBJS:.o=.d) $(HANDLER_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/handlers/main.d \
         $(BUILD)/obj/tools/admin_main.d

# Installs the missing Debian packages (needs root); a no-op when all are there.
deps:
	@missing=$$(for p in $(DEPS_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# Unit tests and the include layering: no services.
check: $(UNIT)
	tests/check_layers.sh
	tests/check_layers_test.sh
	/usr/bin/python3 tests/bench/report_test.py
	$(UNIT) --report_level=short

# Independent Parquet readers for the export tests (DuckDB, hyparquet), pinned in
# tests/js/package.json, installed by npm into build/jsreaders (not committed).
JSREADERS := $(BUILD)/jsreaders
jsreaders: $(JSREADERS)/.installed
$(JSREADERS)/.installed: tests/js/package.json tests/js/read_parquet.mjs
	@mkdir -p $(JSREADERS)
	cp tests/js/package.json tests/js/read_parquet.mjs $(JSREADERS)/
	cd $(JSREADERS) && npm install --no-audit --no-fund --loglevel=error
	@touch $@

# Everything: unit tests, then integration tests against a private MariaDB and nginx,
# on free ports (HTTPS_PORT, HTTP_PORT, DB_PORT if set), while something else holds
# 18080: the suite must not need any fixed port.
test: deps
	$(MAKE) -j$$(nproc) all $(UNIT) jsreaders
	tests/check_layers.sh
	/usr/bin/python3 tests/bench/report_test.py
	$(UNIT) --report_level=short
	tests/with_port_held.py 18080 tests/integration/run.sh

integration: all jsreaders
	tests/integration/run.sh

# The web console in a real browser (tests/browser): Debian's chromium, headless, through
# chromium-driver and python3-selenium. First every page on an empty store (a fresh stack
# of its own), then with data; screenshots go to build/console-screenshots/.
.PHONY: test-browser
test-browser: deps
	$(MAKE) -j$$(nproc) all
	tests/integration/run.sh 'empty_*.py' tests/browser
	tests/integration/run.sh 'test_*.py' tests/browser

# The unit and integration tests against an AddressSanitizer + UBSan build in
# build/asan (gcc); any sanitizer report, in any process, fails the run.
ASAN_BUILD := $(BUILD)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# asan-build only builds it (.ci/run builds it while `make test` runs).
asan-build: deps
	$(MAKE) -j$$(nproc) BUILD=$(ASAN_BUILD) SANITIZE_FLAGS='$(ASAN_FLAGS)' \
	    $(ASAN_BUILD)/synkronus-fcgi $(ASAN_BUILD)/synkronus-admin $(ASAN_BUILD)/unit-tests

test-sanitize: asan-build
	tests/sanitize/run.sh $(ASAN_BUILD)

run: deps
	$(MAKE) -j$$(nproc) all
	packaging/run.sh

run-clean:
	@if [ -e run/.lock ] && ! flock -n run/.lock true; then \
	    echo "run/ is in use by a running make run (pid $$(cat run/.lock)); stop it first" >&2; exit 1; fi
	rm -rf run

# Three Galera nodes, two app hosts and a front balancer on loopback, state in ./run-cluster.
run-cluster: deps
	$(MAKE) -j$$(nproc) all
	packaging/cluster.sh

run-cluster-clean:
	rm -rf run-cluster

# The cluster tests: concurrent pushers and pullers through the balancer and each host,
# then the same while a Galera node and then an app host are killed.
test-cluster: deps
	$(MAKE) -j$$(nproc) all
	tests/cluster/run.sh

# libFuzzer targets, one per parser of untrusted bytes: fuzz/<name>.cpp becomes
# build/fuzz/<name>, linked against the library compiled again with clang (libFuzzer
# needs clang's coverage instrumentation in the code under test), and fuzzes from
# the seeds in fuzz/corpus/<name>/ for FUZZ_SECONDS each (fuzz-ci: a minute in all).
FUZZ_CXX      ?= clang++
FUZZ_BUILD    := $(BUILD)/fuzz
FUZZ_FLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fsanitize-ignorelist=fuzz/ubsan-ignore.txt
# RapidJSON's iterator comparisons trip this clang C++20 warning in every file.
FUZZ_WARN     := -Wno-ambiguous-reversed-operator
FUZZ_NAMES    := $(basename $(notdir $(wildcard fuzz/*.cpp)))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.cpp=$(FUZZ_BUILD)/obj/%.o)
FUZZ_SECONDS  ?= 60
FUZZ_CI_SECONDS ?= 7

$(FUZZ_BUILD)/obj/%.o: %.cpp fuzz/ubsan-ignore.txt
	@mkdir -p $(dir $@)
	@echo "  FUZZCXX $<"
	@$(FUZZ_CXX) $(CPPFLAGS) $(LANG_FLAGS) $(FUZZ_WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/libsynkronus.a: $(FUZZ_LIB_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/fuzz/%.o $(FUZZ_BUILD)/libsynkronus.a
	@echo "  LD      $@"
	@$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_NAMES:%=$(FUZZ_BUILD)/obj/fuzz/%.d)

fuzz-build: deps
	$(MAKE) -j$$(nproc) $(FUZZ_BINS)

fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The same, briefly, for .ci/run.
fuzz-ci: FUZZ_SECONDS = $(FUZZ_CI_SECONDS)
fuzz-ci: fuzz

# The load generator of the benchmarks (HTTPS and MariaDB clients, one binary).
$(BUILD)/bench-client: $(BENCH_SRCS) $(BUILD)/libsynkronus.a
	@echo "  LD      $@"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(LDFLAGS) -o $@ $(BENCH_SRCS) $(BUILD)/libsynkronus.a $(LIBS) -lz

bench: deps
	$(MAKE) -j$$(nproc) all $(BUILD)/bench-client
	bench/run.sh

# Where a small request's time goes (issue 18): strace -c, MariaDB's counters and perf
# on the workers and nginx during 4 KB uploads and downloads, a bundle 304 and the
# manifest (bench/profile.sh); build/bench/profile.txt.
bench-profile: deps
	$(MAKE) -j$$(nproc) all $(BUILD)/bench-client
	bench/profile.sh

# The data export at 1,000,000 records (issue 17): rate beside a plain SELECT, worker
# peak RSS (must stay under 64 MiB), sizes.
bench-export: deps
	$(MAKE) -j$$(nproc) all jsreaders
	bench/export.sh

# The admin record routes on a store of 1,000,000 records (issue 15): server time of
# the first page under each filter and of a record's history.
bench-admin: deps
	$(MAKE) -j$$(nproc) all
	@mkdir -p $(BUILD)/bench
	bench/admin_records.sh

# Push and pull through two hosts on a three-node Galera cluster against one host on one
# MariaDB, in the same run (bench/cluster.sh).
bench-cluster: deps
	$(MAKE) -j$$(nproc) all $(BUILD)/bench-client
	bench/cluster.sh

# The .deb, built by dpkg-buildpackage from a clean copy of the tree (never this
# working tree, whose build/ stays as it is), into build/deb/.
deb: deps
	packaging/build-deb.sh $(BUILD)/deb

# The package tests: lintian, systemd-analyze, file list, the integration smoke
# tests through the unpacked package, install/upgrade/purge in a throwaway root.
# The package build skips the unit tests here (`make test` runs them); that does
# not change what it builds.
test-deb: export DEB_BUILD_OPTIONS += nocheck
test-deb: deb
	tests/package/run.sh $(BUILD)/deb

# The package under a real systemd: a debootstrap'ed Debian 12 (cached in
# /var/cache/synkronus-ci/systemd, outside the clone) boots in systemd-nspawn, installs the .deb and follows
# README.Debian; see tests/systemd/run.sh. Needs root and the network (apt);
# takes ports 80, 443 and 3306 while it runs. Reuses the package `make test-deb`
# built from the same tree.
test-systemd: export DEB_BUILD_OPTIONS += nocheck
test-systemd: deps
	packaging/build-deb.sh --reuse $(BUILD)/deb
	tests/systemd/run.sh $(BUILD)/deb

# The upgrade from the previous release (the newest in debian/released, built from its
# commit once into /var/cache/synkronus-ci) to this tree's package under a real systemd,
# its README.Debian followed, data in, an unattended apt-get upgrade, everything checked,
# then the downgrade refused; see tests/systemd/upgrade.sh. Needs root and the network.
.PHONY: test-upgrade
test-upgrade: export DEB_BUILD_OPTIONS += nocheck
test-upgrade: deps
	packaging/build-deb.sh --reuse $(BUILD)/deb
	tests/systemd/upgrade.sh $(BUILD)/deb

# The layout of the Debian package. The admin's config and nginx site are not part of it:
# the package installs templates, and its postinst (a direct `make install`: this target)
# makes them once; they are never overwritten.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/synkronus/sql $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(SERVER) $(ADMIN) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/synkronus/sql/
	install -m 0644 handlers/openapi.yaml $(DESTDIR)$(PREFIX)/share/synkronus/openapi.yaml
	packaging/console-stage.sh console $(DESTDIR)$(PREFIX)/share/synkronus/console
	install -m 0644 packaging/synkronus-fcgi.8 packaging/synkronus-admin.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -D -m 0644 -t $(DESTDIR)$(UNITDIR) packaging/synkronus-fcgi.socket packaging/synkronus-fcgi.service
	install -D -m 0644 nginx/synkronus-http.conf $(DESTDIR)$(SYSCONFDIR)/nginx/conf.d/synkronus.conf
	install -D -m 0644 nginx/synkronus-locations.conf $(DESTDIR)$(SYSCONFDIR)/nginx/snippets/synkronus.conf
	install -D -m 0644 nginx/synkronus-types.conf $(DESTDIR)$(SYSCONFDIR)/nginx/snippets/synkronus-types.conf
	install -D -m 0644 nginx/synkronus-site.conf $(DESTDIR)$(PREFIX)/share/synkronus/templates/nginx-site
	install -D -m 0644 packaging/synkronus.conf $(DESTDIR)$(PREFIX)/share/synkronus/templates/synkronus.conf
	$(SERVER) --print-default-config >$(BUILD)/synkronus.conf.defaults
	install -m 0644 $(BUILD)/synkronus.conf.defaults $(DESTDIR)$(PREFIX)/share/synkronus/synkronus.conf.defaults
	@if [ -z "$(DESTDIR)" ]; then \
	  test -e $(SYSCONFDIR)/nginx/sites-available/synkronus || \
	    install -D -m 0644 nginx/synkronus-site.conf $(SYSCONFDIR)/nginx/sites-available/synkronus; \
	  test -e $(SYSCONFDIR)/synkronus/synkronus.conf || \
	    install -D -m 0640 packaging/synkronus.conf $(SYSCONFDIR)/synkronus/synkronus.conf; \
	fi

clean:
	rm -rf $(BUILD)
