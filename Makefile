# synkronus-fcgi: the only build entry.
# Targets: all, deps, run, run-clean, test, check, bench, deb, install, clean.

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Werror=return-type -pipe -I. -DRAPIDJSON_HAS_STDSTRING=1
CPPFLAGS ?=
LDFLAGS  ?=
LIBS     := -lfcgi -lmysqlcppconn -lssl -lcrypto -lzip -largon2 -lpthread

PREFIX   ?= /usr
DESTDIR  ?=
BUILD    := build

# Debian packages the build, the tests and `make run` need.
DEPS_PKGS := g++ make pkg-config libfcgi-dev rapidjson-dev libmysqlcppconn-dev libssl-dev \
             libzip-dev libargon2-dev libboost-test-dev mariadb-server mariadb-client nginx-light \
             openssl curl python3 zip unzip wrk debhelper devscripts lintian fakeroot

LIB_SRCS  := $(wildcard core/*.cpp) $(wildcard domain/*.cpp) $(wildcard db/*.cpp) \
             $(filter-out handlers/main.cpp handlers/admin_main.cpp,$(wildcard handlers/*.cpp))
LIB_OBJS  := $(LIB_SRCS:%.cpp=$(BUILD)/obj/%.o)
UNIT_SRCS := $(wildcard tests/unit/*.cpp)
UNIT_OBJS := $(UNIT_SRCS:%.cpp=$(BUILD)/obj/%.o)
BENCH_SRCS := $(wildcard bench/*.cpp)

SERVER := $(BUILD)/synkronus-fcgi
ADMIN  := $(BUILD)/synkronus-admin
UNIT   := $(BUILD)/unit-tests

.PHONY: all deps run run-clean test check integration bench deb test-deb install clean

all: $(SERVER) $(ADMIN)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: CPPFLAGS += -DBOOST_TEST_DYN_LINK

$(BUILD)/libsynkronus.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SERVER): $(BUILD)/obj/handlers/main.o $(BUILD)/libsynkronus.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(ADMIN): $(BUILD)/obj/handlers/admin_main.o $(BUILD)/libsynkronus.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(UNIT_OBJS) $(BUILD)/libsynkronus.a
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lboost_unit_test_framework

-include $(LIB_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/handlers/main.d $(BUILD)/obj/handlers/admin_main.d

# Installs the missing Debian packages (needs root); a no-op when all are there.
deps:
	@missing=$$(for p in $(DEPS_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# Unit tests only: no services.
check: $(UNIT)
	$(UNIT) --log_level=test_suite --report_level=short

# Everything: unit tests, then integration tests against a private MariaDB and nginx.
test: deps
	$(MAKE) all $(UNIT)
	$(UNIT) --report_level=short
	tests/integration/run.sh

integration: all
	tests/integration/run.sh

run: deps
	$(MAKE) all
	packaging/run.sh

run-clean:
	rm -rf run

bench: deps
	$(MAKE) all
	bench/run.sh

deb: deps
	dpkg-buildpackage -us -uc -b
	mkdir -p $(BUILD)/deb && mv ../synkronus-fcgi_*.deb ../synkronus-fcgi_*.buildinfo ../synkronus-fcgi_*.changes $(BUILD)/deb/ 2>/dev/null || true

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/synkronus/sql
	install -m 0755 $(SERVER) $(ADMIN) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 sql/*.sql $(DESTDIR)$(PREFIX)/share/synkronus/sql/
	install -d $(DESTDIR)$(PREFIX)/share/synkronus/nginx
	install -m 0644 nginx/*.conf $(DESTDIR)$(PREFIX)/share/synkronus/nginx/ 2>/dev/null || true
	install -m 0644 handlers/openapi.yaml $(DESTDIR)$(PREFIX)/share/synkronus/openapi.yaml

clean:
	rm -rf $(BUILD)
