# tend — one static multicall binary.
#
#   make                 ./tend, static, musl, with TLS (mbedtls)
#   make TLS=0           ./tend without mbedtls
#   make test [J=2]      build, then every unit and shell test (ARCH=...: under qemu)
#   make test-asan       the same suite against a glibc + ASan/UBSan build
#   make demo            build and run the examples
#   make bench           side-by-side benchmarks against PM2 (bench/): supervision;
#                        make bench-logs, bench-cluster, bench-monit: logs, cluster
#                        mode, the monit dashboard; bench-web: the HTTP API (also
#                        bench-soak, bench-compat)
#   make ARCH=aarch64    a static binary for aarch64 (also armv7, riscv64): Debian's
#                        cross gcc and musl built with it (vendor/deps.sh cross);
#                        make cross: every target, with and without TLS
#   make size            what weighs most in the binary, object by object
#   make install [PREFIX=/usr/local] ; make install-links
#   make clean ; make distclean

TLS      ?= 1
FLAVOUR  ?= musl
ARCH     ?=
J        ?= 1
PREFIX   ?= /usr/local
DESTDIR  ?=
TESTS    ?=
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

VERSION  := 0.1.0
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -I. -Icore -Ivendor/build/include -DTEND_VERSION='"$(VERSION)"' \
            -DTEND_TLS=$(TLS)

ifeq ($(FLAVOUR),asan)
CC       := gcc
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=undefined
LDFLAGS  := -fsanitize=address,undefined
MBEDTLS  := vendor/build/mbedtls-glibc
MBEDTLS_CC := gcc
else ifneq ($(ARCH),)
# Another target: Debian's cross gcc through a musl built for it (vendor/deps.sh cross).
CROSS_CC := $(abspath vendor/build/musl-$(ARCH)/bin/musl-gcc)
CC       := $(CROSS_CC)
OPT      := -Os -ffunction-sections -fdata-sections
LDFLAGS  := -static -s -Wl,--gc-sections
MBEDTLS  := vendor/build/mbedtls-musl-$(ARCH)
MBEDTLS_CC := $(CROSS_CC)
else
CC       := musl-gcc
OPT      := -Os -ffunction-sections -fdata-sections
LDFLAGS  := -static -s -Wl,--gc-sections
MBEDTLS  := vendor/build/mbedtls-musl
MBEDTLS_CC := musl-gcc
endif

OBJDIR   := build/$(FLAVOUR)$(if $(ARCH),-$(ARCH))$(if $(filter 0,$(TLS)),-notls)
BIN      := $(OBJDIR)/tend
CFLAGS   := -std=c11 $(OPT) $(WARN)

ifeq ($(TLS),0)
TLS_LIBS :=
TLS_DEP  :=
else
CPPFLAGS += -I$(MBEDTLS)/include
TLS_LIBS := $(MBEDTLS)/library/libmbedtls.a $(MBEDTLS)/library/libmbedx509.a \
            $(MBEDTLS)/library/libmbedcrypto.a
TLS_DEP  := $(MBEDTLS)/library/libmbedtls.a
endif

APPLET_SRCS := $(sort $(wildcard applets/*.c))
CORE_SRCS   := $(sort $(wildcard core/*/*.c))
CORE_HDRS   := $(sort $(wildcard core/*/*.h))
UNIT_SRCS   := $(sort $(wildcard test/unit/*.c))
SRCS        := main.c $(APPLET_SRCS) $(CORE_SRCS)
OBJS        := $(SRCS:%.c=$(OBJDIR)/%.o)
CORE_OBJS   := $(CORE_SRCS:%.c=$(OBJDIR)/%.o)
UNIT_BINS   := $(UNIT_SRCS:test/unit/%.c=$(OBJDIR)/unit/%)
JSMN        := vendor/build/include/jsmn.h

.PHONY: all deps test-deps test test-asan test-cross test-cross-smoke unit demo cross size bench bench-logs bench-cluster bench-soak bench-compat bench-monit bench-web bench-deploy install install-links clean distclean FORCE

all: tend

# ./tend is whichever flavour was built last; the copy keeps switching TLS=0/1 honest.
# (Another target's binary stays in its build directory.)
ifeq ($(FLAVOUR)$(ARCH),musl)
tend: $(BIN) FORCE
	@cmp -s $(BIN) $@ || { cp $(BIN) $@.new && mv -f $@.new $@; }   # a running daemon keeps its file
else
tend: $(BIN)
endif

$(BIN): $(OBJS) $(TLS_DEP) $(OBJDIR)/layers.ok
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) $(MAPFLAG) -o $@ $(OBJS) $(TLS_LIBS) -lm
	$(if $(BUDGET),@scripts/size-budget.sh $@ $(BUDGET))

# The size budget of the stripped binary, in bytes, per target and TLS (README, "Size"):
# today's size and about 10% for what comes. Past it, the build fails.
BUDGET_x86_64   := 950000
BUDGET_x86_64_0 := 600000
BUDGET_aarch64   := 1010000
BUDGET_aarch64_0 := 660000
BUDGET_armv7    := 670000
BUDGET_armv7_0  := 420000
BUDGET_riscv64   := 775000
BUDGET_riscv64_0 := 485000
BUDGET := $(if $(filter musl,$(FLAVOUR)),$(BUDGET_$(or $(ARCH),x86_64)$(if $(filter 0,$(TLS)),_0)))

# Every target, with and without TLS; then their sizes.
CROSS_ARCHES := aarch64 armv7 riscv64
cross:
	@for a in $(CROSS_ARCHES); do for t in 1 0; do \
		$(MAKE) --no-print-directory ARCH=$$a TLS=$$t tend || exit 1; done; done
	@for a in $(CROSS_ARCHES); do for t in 1 0; do \
		b=build/musl-$$a$$([ $$t = 0 ] && echo -notls)/tend; \
		printf '%-32s %8s bytes  %s\n' "$$b" "$$(stat -c %s $$b)" "$$(file -b $$b | cut -d, -f1-2)"; done; done

# What weighs most: the bytes each object keeps in the binary after --gc-sections, from
# the link's map (busybox's bloatcheck is the model: diff two runs to see a change's cost).
comma := ,
MAPFLAG := $(if $(filter musl,$(FLAVOUR)),-Wl$(comma)-Map=$(OBJDIR)/tend.map)
size: $(BIN)
	@echo "   bytes      bss  object"
	@scripts/size-report.sh $(OBJDIR)/tend.map 40
	@printf '%8s           %s (stripped)\n' "$$(stat -c %s $(BIN))" "$(BIN)"

$(OBJDIR)/%.o: %.c | $(JSMN) $(TLS_DEP) $(CROSS_CC)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# core/ is three layers: lib/ (depends on nothing above it), daemon/ and client/ (each
# on lib/ only); applets use client/ and lib/, and daemon/daemon.h to run the daemon.
$(OBJDIR)/layers.ok: $(SRCS) $(CORE_HDRS) scripts/check-layers.sh
	@mkdir -p $(@D)
	@scripts/check-layers.sh $(SRCS) $(CORE_HDRS) && touch $@

# The applet table is generated from the //applet: lines next to each applet.
$(OBJDIR)/main.o $(APPLET_SRCS:%.c=$(OBJDIR)/%.o): $(OBJDIR)/applets.h
CPPFLAGS += -I$(OBJDIR)
$(OBJDIR)/applets.h: $(APPLET_SRCS) scripts/mkapplets.sh
	@mkdir -p $(@D)
	@scripts/mkapplets.sh $(APPLET_SRCS) >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

# The node preload (core/daemon/node-preload.js) is embedded as a C string.
$(OBJDIR)/core/daemon/ready.o: $(OBJDIR)/node_preload.h
$(OBJDIR)/node_preload.h: core/daemon/node-preload.js
	@mkdir -p $(@D)
	@sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $< >$@.new && mv $@.new $@

# The templates (core/client/templates/: startup's services, deploy's remote script) are
# embedded as C strings: tmpl_systemd_service for systemd.service, and so on.
TEMPLATES := $(sort $(wildcard core/client/templates/*))
$(OBJDIR)/applets/startup_init.o $(OBJDIR)/applets/deploy_conf.o: $(OBJDIR)/templates.h
$(OBJDIR)/templates.h: $(TEMPLATES) Makefile
	@mkdir -p $(@D)
	@for f in $(TEMPLATES); do \
		printf 'static const char tmpl_%s[] =\n' "$$(basename "$$f" | tr . _)"; \
		sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' "$$f"; \
		printf ';\n'; \
	done >$@.new && mv $@.new $@

# The build id changes only when a source changes; client and daemon compare it.
$(OBJDIR)/core/lib/version.o: $(OBJDIR)/buildid.h
$(OBJDIR)/buildid.h: $(SRCS) $(CORE_HDRS) $(wildcard core/*/*.js) $(TEMPLATES) FORCE
	@mkdir -p $(@D)
	@printf '#define TEND_BUILD_ID "%s"\n' \
		"$$(cat $(SRCS) $(CORE_HDRS) $(wildcard core/*/*.js) $(TEMPLATES) | sha256sum | cut -c1-12)" >$@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(JSMN):
	vendor/deps.sh tools

$(MBEDTLS)/library/libmbedtls.a: | $(JSMN) $(CROSS_CC)
	vendor/deps.sh mbedtls $(notdir $(MBEDTLS:vendor/build/mbedtls-%=%)) $(MBEDTLS_CC)

ifneq ($(ARCH),)
$(CROSS_CC):
	vendor/deps.sh cross $(ARCH)
endif

deps: $(JSMN) $(TLS_DEP)

$(OBJDIR)/unit/%: test/unit/%.c $(CORE_OBJS) test/unit/unit.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Itest/unit -o $@ $< $(CORE_OBJS) $(TLS_LIBS) -lm

unit: $(UNIT_BINS)

# What the tests run besides tend (node, python3, file...), from Debian's archive.
test-deps:
	@vendor/deps.sh pkgs $$(cat test/packages)

# With ARCH, the same suite against that target's binary, under qemu-user (test/cross.sh).
test: tend unit test-deps
ifeq ($(ARCH),)
	@TEND_BIN=$(abspath $(BIN)) UNIT_DIR=$(abspath $(OBJDIR)/unit) \
		test/run.sh -j $(J) $(TESTS)
else
	@J=$(J) test/cross.sh $(ARCH) $(TESTS)
endif

test-asan:
	@$(MAKE) --no-print-directory FLAVOUR=asan TLS=$(TLS) test

# The suite under qemu-user for ARCH (make test-cross ARCH=aarch64): every test but those
# test/cross-skip lists, with why. test-cross-smoke: for every target, the smoke subset
# (start, list, restart, logs, a crash loop, save/resurrect, cluster handoff of a port
# the app listens on itself), as CI runs.
CROSS_SMOKE := start logs policy persist clusterlisten
test-cross:
	@[ -n "$(ARCH)" ] || { echo "make test-cross ARCH=aarch64|armv7|riscv64" >&2; exit 2; }
	@$(MAKE) --no-print-directory ARCH=$(ARCH) tend unit test-deps
	@J=$(J) test/cross.sh $(ARCH)
test-cross-smoke: test-deps
	@mkdir -p build; total=0; bad=0; for a in $(CROSS_ARCHES); do \
		if ! $(MAKE) --no-print-directory ARCH=$$a tend unit; then \
			echo "cross $$a: the build failed"; bad=$$((bad + 1)); continue; fi; \
		J=1 test/cross.sh $$a $(CROSS_SMOKE) >build/cross-$$a.log 2>&1; \
		sed -n '/^cross: /p; /^ok /p; /^FAIL /,/^[^ ]/p' build/cross-$$a.log | grep -v '^[0-9]* passed'; \
		p=$$(awk '$$2 == "passed," { n = $$1 } END { print n + 0 }' build/cross-$$a.log); \
		f=$$(awk '$$2 == "passed," { n = $$3; s = 1 } END { print s ? n : 1 }' build/cross-$$a.log); \
		echo "cross $$a: $$p passed, $$f failed"; \
		total=$$((total + p)); bad=$$((bad + f)); done; \
		echo "$$total passed, $$bad failed"; [ $$bad = 0 ]

demo: tend
	@vendor/deps.sh pkgs $$(cat examples/packages)
	@examples/demo.sh ./tend

# Benchmarks run on a copy: a rebuild meanwhile must not change what is measured.
bench bench-logs bench-cluster bench-soak bench-compat bench-monit bench-web bench-deploy: tend
	@cp tend /tmp/tend-bench-bin
	@bench/$(patsubst bench-%,%,$(patsubst bench,run,$@)).sh /tmp/tend-bench-bin

install: tend
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 tend $(DESTDIR)$(PREFIX)/bin/tend
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/

install-links: install
	$(DESTDIR)$(PREFIX)/bin/tend --install $(DESTDIR)$(PREFIX)/bin -s

clean:
	rm -rf build tend

distclean: clean
	rm -rf vendor/build bench/.deps bench/results

-include $(OBJS:.o=.d)

# ---- fuzzing ------------------------------------------------------------------------
# Coverage-guided fuzz targets (libFuzzer) for the parsers that take outside input:
# test/fuzz/fuzz_NAME.c, seeds in test/fuzz/corpus/NAME/, test/fuzz/NAME.dict. Built
# with Debian's clang 14 against glibc, with ASan and UBSan, into build/fuzz/ only.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="json cron"]   each target, one after another
#   make fuzz-smoke                                          the same, 10 s each (CI)
#   make fuzz-build                                          the binaries only
#
# Each run starts from a copy of the seeds (build/fuzz/run/NAME/corpus), so the tree's
# corpus stays as committed; a crash leaves its input in build/fuzz/run/NAME/.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_SRCS    := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_SRCS:test/fuzz/fuzz_%.c=%)
FUZZ_BINS    := $(FUZZ_SRCS:test/fuzz/fuzz_%.c=$(FUZZ_DIR)/fuzz_%)
# Only the parsers and what they call: the daemon's objects stay out.
FUZZ_CORE    := lib/json lib/jsonc client/decl client/ecosystem lib/cron lib/logfmt daemon/target \
                lib/rx daemon/listener lib/util lib/loop lib/schema client/http client/tls
FUZZ_OBJS    := $(FUZZ_CORE:%=$(FUZZ_DIR)/core/%.o)
FUZZ_CPPFLAGS := -D_GNU_SOURCE -I. -Icore -Ivendor/build/include -Itest/fuzz
FUZZ_CFLAGS  := -std=c11 -O1 -g -fno-omit-frame-pointer $(WARN) \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-deps

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 && \
		test -n "$$(find /usr/lib/llvm-14 -name 'libclang_rt.fuzzer-*.a' 2>/dev/null)" || \
		vendor/deps.sh pkgs clang-14 libclang-rt-14-dev

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
	@test/fuzz/run.sh -s $(FUZZ_SECONDS) -d $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# The core objects carry coverage (fuzzer-no-link); only the harness links libFuzzer.
$(FUZZ_DIR)/core/%.o: core/%.c | $(JSMN) fuzz-deps
	@mkdir -p $(@D)
	@echo "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# An archive, so that a harness links only what its parser calls (target.c would
# otherwise pull in the daemon's process table).
$(FUZZ_DIR)/libcore.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz.h $(FUZZ_DIR)/libcore.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< \
		$(FUZZ_DIR)/libcore.a -lm

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
