# Gateway MTA firmware -- top-level build.
#
#   make [BOARD=mps2-an385|host]   firmware image (+ map file) for one board
#   make run                       boot the default board in QEMU, console on this terminal
#   make test                      unit tests (cmocka) + integration tests (pytest, QEMU)
#   make size                      flash/RAM split: firmware, drivers, port, lwIP, mbedTLS
#   make bench [BOARD=mps2-an385]  relay benchmark; make profile: per-function instruction profile
#                                  (both: tests/bench/README.md)
#   make deps                      install/fetch what is missing (Debian bookworm only)
#
# Everything third-party comes from Debian: apt packages, and the lwIP and
# mbedTLS source packages unpacked by port/deps.sh into $(DEPS) (git-ignored).

BOARD     ?= mps2-an385
BUILD     := build/$(BOARD)
DEPS      := .cache/deps
LWIPDIR   := $(DEPS)/lwip/src
PYTHON    := /usr/bin/python3
SMTP_PORT ?= 2525
SMARTHOST_PORT ?= 2526
FLASH     ?= $(BUILD)/flash.img

.DEFAULT_GOAL := all
comma := ,
.PHONY: all deps run test unit integration size clean bench layers FORCE

# ---------------------------------------------------------------- sources
FW_SRCS     := $(sort $(wildcard firmware/*/*.c))
PORT_SRCS   := $(sort $(wildcard port/*.c))
# lwIP: IPv4 core, raw/altcp API, ethernet netif (boards add slipif with its sio glue).  No sockets/netconn (NO_SYS=1).
LWIP_SRCS   := $(addprefix $(LWIPDIR)/core/,init.c def.c inet_chksum.c ip.c mem.c memp.c \
                 netif.c pbuf.c raw.c stats.c sys.c altcp.c altcp_alloc.c altcp_tcp.c tcp.c \
                 tcp_in.c tcp_out.c timeouts.c) \
               $(addprefix $(LWIPDIR)/core/ipv4/,etharp.c icmp.c ip4_frag.c ip4.c ip4_addr.c) \
               $(LWIPDIR)/api/err.c $(LWIPDIR)/netif/ethernet.c
MBEDTLSDIR := $(DEPS)/mbedtls
# Only the modules port/mbedtls_config.h enables (TLS 1.2, ECDHE, AES-GCM,
# ChaCha20-Poly1305, X.509, the static buffer allocator).
MBEDTLS_SRCS := $(addprefix $(MBEDTLSDIR)/library/,sha256.c sha512.c platform_util.c platform.c \
                  memory_buffer_alloc.c aes.c gcm.c chacha20.c poly1305.c chachapoly.c cipher.c \
                  cipher_wrap.c md.c bignum.c ecp.c ecp_curves.c ecdh.c ecdsa.c rsa.c rsa_internal.c \
                  asn1parse.c asn1write.c oid.c pk.c pk_wrap.c pkparse.c pkwrite.c pem.c base64.c \
                  x509.c x509_crt.c x509_create.c x509write_crt.c ctr_drbg.c entropy.c entropy_poll.c \
                  constant_time.c ssl_tls.c ssl_msg.c ssl_cli.c ssl_srv.c ssl_ciphersuites.c)

# The board file sets CC, ARCH_FLAGS, BOARD_SRCS, DRIVER_SRCS, BOARD_LDFLAGS,
# IMAGE and (for QEMU boards) QEMU_CMD.
include boards/$(BOARD)/board.mk

INCLUDES := -Ifirmware -Ifirmware/include -Iport -Iboards/$(BOARD) -Idrivers -I$(LWIPDIR)/include -I$(MBEDTLSDIR)/include \
            -I$(BUILD)/gen
# Reproducible builds: the build time is the last commit's (SOURCE_DATE_EPOCH,
# as reproducible-builds.org defines it), and file paths are relative, so the
# same tree gives the same image wherever and whenever it is built.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
DEFS     := -DBOARD_NAME=\"$(BOARD)\" -DMBEDTLS_CONFIG_FILE=\"mbedtls_config.h\"
# Project code: warnings are errors.  Third-party code: compiled with its own warnings, not -Werror.
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
            -Wconversion -Wundef
CFLAGS_COMMON := -std=gnu11 -g -ffunction-sections -fdata-sections -ffile-prefix-map=$(CURDIR)=. $(ARCH_FLAGS) $(OPT) $(DEFS) \
                 -include board_opts.h $(INCLUDES)
PROJ_CFLAGS := $(CFLAGS_COMMON) $(WARN)
TP_CFLAGS   := $(CFLAGS_COMMON) -w

PROJ_SRCS := $(FW_SRCS) $(PORT_SRCS) $(BOARD_SRCS) $(DRIVER_SRCS)
TP_SRCS   := $(LWIP_SRCS) $(BOARD_LWIP_SRCS) $(MBEDTLS_SRCS)
obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(subst $(DEPS)/,deps/,$(1)))
PROJ_OBJS := $(call obj,$(PROJ_SRCS))
TP_OBJS   := $(call obj,$(TP_SRCS))
OBJS      := $(PROJ_OBJS) $(TP_OBJS)

# ---------------------------------------------------------------- deps
DEPS_STAMP := $(DEPS)/lwip/.stamp-2.1.3+dfsg1-2
# Fetch the sources before make looks at any rule: make caches directory
# listings, so sources unpacked halfway through a run would stay invisible.
ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(DEPS_STAMP)),)
$(info make: fetching dependencies first (port/deps.sh))
DEPS_RC := $(shell sh port/deps.sh >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error make deps failed: see the line above)
endif
endif
endif

deps:
	@sh port/deps.sh

# ---------------------------------------------------------------- build
all: layers $(IMAGE)

# The include rules of every folder (its README's "May include:" line) and
# no include cycle: fails the build on a violation (port/check_layers.py).
layers:
	@$(PYTHON) port/check_layers.py

# version.h reads it; rewritten only when the epoch changes, so only the
# files that use it are rebuilt.
$(BUILD)/gen/build_epoch.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define MTA_BUILD_EPOCH $(SOURCE_DATE_EPOCH)u' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(PROJ_OBJS): | $(BUILD)/gen/build_epoch.h
# The board file holds the compiler flags (OPT, ARCH_FLAGS): a change there
# rebuilds every object, or the image would mix objects built two ways.
$(OBJS): boards/$(BOARD)/board.mk

$(BUILD)/obj/deps/%.o: $(DEPS)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(TP_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(PROJ_CFLAGS) -MMD -MP -c $< -o $@

-include $(OBJS:.o=.d)

# No heap: the malloc family and _sbrk are wrapped to symbols that do not
# exist, so any reference fails the link; port/check_heap.sh then double-checks
# the image's symbol table.
NOHEAP_SYMS := malloc free calloc realloc _malloc_r _free_r _calloc_r _realloc_r _sbrk _sbrk_r
NOHEAP_LDFLAGS := $(foreach s,$(NOHEAP_SYMS),-Wl,--wrap=$(s))

$(IMAGE): $(OBJS) boards/$(BOARD)/board.mk
	@echo "  LD  $@"
	@$(CC) $(ARCH_FLAGS) $(OBJS) $(BOARD_LDFLAGS) $(NOHEAP_LDFLAGS) -Wl,-Map=$(BUILD)/$(notdir $(IMAGE)).map -o $@
	@sh port/check_heap.sh $(NM) $@ $(BOARD) $(PROJ_OBJS) $(TP_OBJS)

size: $(IMAGE)
	@$(PYTHON) tests/tools/size_report.py --board $(BOARD) --map $(BUILD)/$(notdir $(IMAGE)).map \
	    --flash-budget $(FLASH_BUDGET) --ram-budget $(RAM_BUDGET) --elf $(IMAGE) --out $(BUILD)/size.txt

# ---------------------------------------------------------------- run
run: deps $(IMAGE)
	@mkdir -p $(dir $(FLASH))
	$(QEMU_CMD)

# ---------------------------------------------------------------- tests
# tests/unit mirrors firmware/ (and drivers/): tests/unit/<folder>/test_<module>.c
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(sort $(wildcard tests/unit/*/test_*.c)))
UNIT_BUILD := build/unit
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -fsanitize=address,undefined \
               -fno-omit-frame-pointer -Ifirmware -Ifirmware/include -Iport -Idrivers -Itests/unit -DUNIT_TEST \
               -I$(MBEDTLSDIR)/include -DMBEDTLS_CONFIG_FILE=\"mbedtls_config.h\"
unit_srcs = $(shell sed -n '1s/^.*unit:\(.*\)\*\/.*$$/\1/p' tests/unit/$(1).c)

define UNIT_RULE
$(UNIT_BUILD)/$(1): tests/unit/$(1).c $(call unit_srcs,$(1)) $(wildcard firmware/*/*.h drivers/*/*.h)
	@mkdir -p $(dir $(UNIT_BUILD)/$(1))
	@echo "  CC  $$@"
	@gcc $(UNIT_CFLAGS) $$< $(call unit_srcs,$(1)) -lcmocka -o $$@
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call UNIT_RULE,$(t))))

unit: deps layers $(addprefix $(UNIT_BUILD)/,$(UNIT_TESTS))
	@fail=0; for t in $(UNIT_TESTS); do \
	    echo "== $$t"; $(UNIT_BUILD)/$$t || fail=1; \
	done; [ $$fail = 0 ] || { echo "unit tests FAILED"; exit 1; }

integration: deps
	@$(MAKE) --no-print-directory BOARD=mps2-an385 all
	@$(MAKE) --no-print-directory BOARD=host all
	@$(PYTHON) -m pytest -q tests/integration $(PYTEST_ARGS)

test: unit fuzz-replay integration

# make fuzz / make fuzz-replay: tests/fuzz/fuzz.mk
include tests/fuzz/fuzz.mk

# ---------------------------------------------------------------- bench
# make bench [N= S= C= SWEEP=1] [BOARD=mps2-an385]: see tests/bench/README.md
include tests/bench/bench.mk
bench: deps
	@$(MAKE) --no-print-directory BOARD=$(BENCH_BOARD) all
	@$(MAKE) --no-print-directory bench-run BENCH_BOARD=$(BENCH_BOARD) BENCH_CMDLINE='$(BENCH_CMDLINE)'

clean:
	rm -rf build
