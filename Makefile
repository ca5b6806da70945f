# Digin gateway: build, test and benchmark entry points.
#
#   make demo     the demo on 127.0.0.1:8080 (PORT=8090 for another port)
#   make          the nginx module (build/ngx_http_digin_module.so) and tools
#   make deps     install the Debian packages the project needs (idempotent)
#   make deb      the Debian package libnginx-mod-http-digin (in build/)
#   make browser-test    the front end in Chromium against make demo
#   make bench-frontend  front-end figures with a 50,000-title catalog
#   make test     every test: C unit tests (cmocka), the token tool
#                 checked with openssl, and t/ (prove)
#   make bench    the benchmark run (bench/run)

SHELL      := /bin/bash
BUILD      := build
NGX_SRC    := /usr/share/nginx/src
NGX_BUILD  := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_digin_module.so

CC         ?= cc
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Werror -Wno-unused-parameter
MOD_DIR    := ngx_digin_module

# pure logic shared by the module, the tools and the unit tests
CORE_SRCS  := $(MOD_DIR)/digin_b64.c $(MOD_DIR)/digin_key.c \
              $(MOD_DIR)/digin_jwt.c $(MOD_DIR)/digin_ent.c \
              $(MOD_DIR)/digin_grant.c $(MOD_DIR)/digin_assert.c
CORE_HDRS  := $(CORE_SRCS:.c=.h)
GLUE_SRCS  := $(wildcard $(MOD_DIR)/ngx_http_digin_*.c)
GLUE_HDRS  := $(wildcard $(MOD_DIR)/ngx_http_digin_*.h)
CORE_LIBS  := -lcrypto -ljansson

TOOLS      := $(BUILD)/digin-token $(BUILD)/digin-admin
UNIT_TESTS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))

DEBIAN_PKGS := nginx-core nginx-dev libssl-dev libjwt-dev libhiredis-dev \
               libjansson-dev libcmocka-dev redis-server wrk perl \
               openssl python3 pkg-config curl espeak-ng opus-tools \
               librsvg2-bin chromium \
               dpkg-dev debhelper build-essential

DEPS_STAMP := $(BUILD)/.deps

CONTENT_STAMP := $(BUILD)/content/.made

WWW            := $(BUILD)/www
FRONTEND_STAMP := frontend/node_modules/.installed

.PHONY: all deps module tools content frontend demo unit tool-check \
        vendor-check frontend-test browser-test prove test bench \
        bench-frontend bench-profile clean

all: module tools

# Installs only what is missing, so a second run does nothing.
deps: $(DEPS_STAMP)

$(DEPS_STAMP): Makefile
	@missing=""; \
	for p in $(DEBIAN_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm > /dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends $$missing; \
	fi
	@mkdir -p $(BUILD) && touch $@

# The Debian recipe for out-of-tree modules: configure a copy of the
# nginx-dev kit with the flags the packaged nginx was built with, so the
# module's binary signature matches, then build only the modules.
$(NGX_BUILD)/Makefile: config $(DEPS_STAMP)
	rm -rf $(NGX_BUILD)
	mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(CFLAGS) -fPIC $(DIGIN_CC_OPT)" \
	        --with-ld-opt="$(DIGIN_LD_OPT)" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { cat configure.log; exit 1; }

module: $(MODULE)

$(MODULE): $(NGX_BUILD)/Makefile $(CORE_SRCS) $(CORE_HDRS) $(GLUE_SRCS) \
           $(GLUE_HDRS)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules
	cp $(NGX_BUILD)/objs/ngx_http_digin_module.so $@.tmp
	mv $@.tmp $@

tools: $(TOOLS)

$(BUILD)/digin-token: tools/digin_token.c $(CORE_SRCS) $(CORE_HDRS) \
                      $(DEPS_STAMP)
	$(CC) $(CFLAGS) $(WARN) $(DIGIN_CC_OPT) -I$(MOD_DIR) -o $@ \
	    tools/digin_token.c $(CORE_SRCS) $(DIGIN_LD_OPT) -ljwt $(CORE_LIBS)

$(BUILD)/digin-admin: tools/digin_admin.c $(CORE_SRCS) $(CORE_HDRS) \
                      $(DEPS_STAMP)
	$(CC) $(CFLAGS) $(WARN) $(DIGIN_CC_OPT) -I$(MOD_DIR) -o $@ \
	    tools/digin_admin.c $(CORE_SRCS) $(DIGIN_LD_OPT) -lhiredis $(CORE_LIBS)

$(BUILD)/tests/%: tests/%.c $(CORE_SRCS) $(CORE_HDRS) $(DEPS_STAMP)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS) $(WARN) $(DIGIN_CC_OPT) -I$(MOD_DIR) -Itests -o $@ \
	    $< $(CORE_SRCS) $(DIGIN_LD_OPT) $(CORE_LIBS) -lcmocka

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do \
	    ( cd tests && ../$$t ); \
	done

# the vendor mocks' sample content (texts, EPUBs, speech, feeds)
content: $(CONTENT_STAMP)

$(CONTENT_STAMP): tools/make-content $(wildcard tools/vendors/texts/*) \
                  $(DEPS_STAMP)
	python3 tools/make-content $(BUILD)/content
	touch $@

# The front end: npm packages from the lockfile (again only when the
# lockfile changes), the app and its libraries copied into build/www/,
# the catalog built from the vendors' feeds.
$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json \
                   $(DEPS_STAMP)
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend: $(FRONTEND_STAMP) content
	cd frontend && node scripts/build.js --out ../$(WWW)
	tools/digin-catalog \
	    --feed bokskya=$(BUILD)/content/bokskya/opds/catalog.json \
	    --feed lydhuset=$(BUILD)/content/lydhuset/opds/catalog.json \
	    --content bokskya=$(BUILD)/content/bokskya \
	    --content lydhuset=$(BUILD)/content/lydhuset \
	    --out $(WWW)/catalog

frontend-test: $(FRONTEND_STAMP)
	cd frontend && npm test

# The front end in Debian's Chromium (playwright-core, axe-core) against
# the real stack: the tests start "make demo" on free ports themselves
# and stop it with Ctrl-C.  Screenshots go to build/screenshots/.
browser-test: all content frontend
	cd frontend && node --test e2e/

demo: all content frontend
	tools/demo/run

# the vendor mocks and their content: feeds, manifests, EPUBs (epubcheck
# when installed), assertions, Range, loans
vendor-check: all content
	tools/vendors/check $(BUILD)/content

# digin-token checked against the openssl command line alone, and under
# valgrind (no leaks, no memory errors)
tool-check: tools
	tests/tools/digin_token_check.sh

prove: all deb frontend
	DIGIN_BUILD=$(CURDIR)/$(BUILD) prove -r -I t/lib t/

test: unit tool-check vendor-check frontend-test browser-test prove fuzz-ci test-asan

bench: all
	bench/run

bench-frontend: all content frontend
	bench/frontend

# where a request's time goes (bench/profile: valgrind, linux-perf)
bench-profile: all
	bench/profile

# The Debian package, build/libnginx-mod-http-digin_<version>_<arch>.deb:
# dpkg-buildpackage on a copy of the sources with tools/debian/ as
# debian/.  The package build compiles the module and the tools itself
# (see tools/debian/rules); dh_nginx from nginx-dev adds the load_module
# snippet, its modules-enabled link and the nginx ABI dependency.
DEB_DIR   := $(BUILD)/deb
DEB_STAMP := $(DEB_DIR)/.built
DEB_SRCS  := config Makefile README.md conf-examples $(MOD_DIR) tools

.PHONY: deb

deb: $(DEB_STAMP)

$(DEB_STAMP): config README.md $(CORE_SRCS) $(CORE_HDRS) $(GLUE_SRCS) \
              $(GLUE_HDRS) tools/digin_token.c tools/digin_admin.c \
              $(wildcard conf-examples/* conf-examples/keys/*) \
              $(wildcard tools/debian/* tools/debian/source/*) $(DEPS_STAMP)
	rm -rf $(DEB_DIR) $(BUILD)/libnginx-mod-http-digin_*.deb
	mkdir -p $(DEB_DIR)/src
	cp -r $(DEB_SRCS) $(DEB_DIR)/src/
	cp -r tools/debian $(DEB_DIR)/src/debian
	cd $(DEB_DIR)/src && \
	    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    dpkg-buildpackage -b -us -uc -jauto > ../build.log 2>&1 \
	    || { tail -n 40 ../build.log; exit 1; }
	cd $(DEB_DIR) && deb=$$(echo libnginx-mod-http-digin_*.deb) && \
	    cp $$deb ../.$$deb.tmp && mv ../.$$deb.tmp ../$$deb
	touch $@

clean:
	rm -rf $(BUILD)


# Security testing (see SECURITY.md).
#
#   make fuzz        each libFuzzer target of tests/fuzz/ for FUZZ_SECONDS
#                    (the corpus grows in build/fuzz/corpus/ run by run)
#   make fuzz-ci     the inputs that once crashed a target, then each
#                    target for FUZZ_CI_SECONDS (part of make test)
#   make test-asan   the module, the tools and the unit tests built with
#                    AddressSanitizer and UBSan in build/asan/, the unit
#                    tests and then the whole t/ suite run against them
#                    (part of make test)
#   make faults      reloads, Redis and a worker killed, a key file
#                    replaced with garbage, each under wrk load, with the
#                    measurements printed (recorded in SECURITY.md)

DEBIAN_PKGS += clang libclang-rt-14-dev valgrind

FUZZ_DIR        := $(BUILD)/fuzz
FUZZ_SECONDS    ?= 300
FUZZ_CI_SECONDS ?= 30
FUZZ_TARGETS    := jwt jwks ent reply
FUZZ_BINS       := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_FLAGS      := -g -O1 -fno-omit-frame-pointer \
                   -fsanitize=fuzzer,address,undefined \
                   -fno-sanitize-recover=undefined

ASAN_BUILD      := $(BUILD)/asan
ASAN_FLAGS      := -fsanitize=address,undefined -fno-omit-frame-pointer

.PHONY: fuzz fuzz-build fuzz-seeds fuzz-ci asan-build test-asan faults

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
                    $(CORE_SRCS) $(CORE_HDRS) $(DEPS_STAMP)
	@mkdir -p $(FUZZ_DIR)
	clang $(FUZZ_FLAGS) $(WARN) -I$(MOD_DIR) \
	    -DDIGIN_FUZZ_KEYS='"$(CURDIR)/tests/fuzz/keys"' -o $@ \
	    $< $(CORE_SRCS) $(CORE_LIBS) -lhiredis

fuzz-build: $(FUZZ_BINS)

# the seed corpora, from the test vectors and tokens minted by digin-token
$(FUZZ_DIR)/seeds/.made: tests/fuzz/seeds $(BUILD)/digin-token \
                         $(wildcard tests/fuzz/keys/* tests/fixtures/*) \
                         $(wildcard conf-examples/keys/*) \
                         conf-examples/entitlements.json
	rm -rf $(FUZZ_DIR)/seeds
	tests/fuzz/seeds $(FUZZ_DIR)/seeds $(BUILD)/digin-token
	touch $@

fuzz-seeds: $(FUZZ_DIR)/seeds/.made

fuzz: fuzz-build fuzz-seeds
	tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_DIR)

fuzz-ci: fuzz-build fuzz-seeds
	tests/fuzz/run $(FUZZ_CI_SECONDS) $(FUZZ_DIR)

# The same recipes with other flags into build/asan/.  CFLAGS goes
# through the environment: on the command line make would hand it on to
# nginx's objs/Makefile, whose own CFLAGS (with the sanitizers) it would
# replace.  Warnings are not errors here: GCC warns falsely with the
# sanitizers on (the ordinary build holds the code to -Werror).  The
# demo test needs the content and front end of build/.
asan-build: $(DEPS_STAMP)
	CFLAGS="-O1 -g" $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) \
	    DIGIN_CC_OPT="$(ASAN_FLAGS)" DIGIN_LD_OPT="$(ASAN_FLAGS)" \
	    WARN="-Wall -Wextra -Wno-unused-parameter" module tools unit
	ln -sfn ../content $(ASAN_BUILD)/content
	ln -sfn ../www $(ASAN_BUILD)/www

# nginx itself is Debian's: tools/asan-nginx preloads the ASan runtime
test-asan: asan-build content frontend
	DIGIN_BUILD=$(CURDIR)/$(ASAN_BUILD) DIGIN_ASAN=1 \
	    DIGIN_NGINX=$(CURDIR)/tools/asan-nginx prove -r -I t/lib t/

faults: all
	DIGIN_BUILD=$(CURDIR)/$(BUILD) tools/faults
