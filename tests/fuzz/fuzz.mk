# tests/fuzz: libFuzzer harnesses (tests/README.md), included by the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="smtpd dsn"]
#       builds each harness with clang -fsanitize=fuzzer,address,undefined,
#       runs it FUZZ_SECONDS on a working corpus (build/fuzz/corpus/<t>,
#       seeded from tests/fuzz/corpus/<t>), then prints its executions and
#       the line coverage of its module over the corpus (clang source-based
#       coverage: llvm-profdata, llvm-cov).  New crashes land in
#       build/fuzz/crash/<t>/; commit one to tests/fuzz/crash/<t>/ to keep it
#       as a regression input.
#   make fuzz-replay
#       every harness built with gcc (ASan+UBSan, no libFuzzer) and a small
#       main, run on tests/fuzz/corpus/<t> and tests/fuzz/crash/<t>: part of
#       `make test`, a few seconds.
#
# Line 1 of tests/fuzz/<t>.c names the sources it links (/* fuzz: ... */).

FUZZ_TARGETS ?= smtpd smtpc smtpd_cmd smtpc_reply smtp_data dsn sasl con store_flash twoslot tlsstore
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_CLANG   ?= clang
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -fno-omit-frame-pointer \
                -Ifirmware -Ifirmware/include -Iport -Idrivers -Itests/fuzz -DUNIT_TEST -D_GNU_SOURCE
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
fuzz_srcs = $(shell sed -n '1s/^.*fuzz:\(.*\)\*\/.*$$/\1/p' tests/fuzz/$(1).c)
FUZZ_DEPS := $(wildcard firmware/*/*.h drivers/*/*.h tests/fuzz/*.h)

define FUZZ_RULE
$(FUZZ_BUILD)/bin/$(1): tests/fuzz/$(1).c $(call fuzz_srcs,$(1)) $(FUZZ_DEPS)
	@mkdir -p $$(dir $$@)
	@echo "  CLANG $$@"
	@$(FUZZ_CLANG) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $$< $(call fuzz_srcs,$(1)) -o $$@
$(FUZZ_BUILD)/cov/$(1): tests/fuzz/$(1).c tests/fuzz/replay_main.c $(call fuzz_srcs,$(1)) $(FUZZ_DEPS)
	@mkdir -p $$(dir $$@)
	@$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fprofile-instr-generate -fcoverage-mapping $$< tests/fuzz/replay_main.c \
	    $(call fuzz_srcs,$(1)) -o $$@
$(FUZZ_BUILD)/replay/$(1): tests/fuzz/$(1).c tests/fuzz/replay_main.c $(call fuzz_srcs,$(1)) $(FUZZ_DEPS)
	@mkdir -p $$(dir $$@)
	@echo "  CC  $$@"
	@gcc $(FUZZ_CFLAGS) $(FUZZ_SAN) $$< tests/fuzz/replay_main.c $(call fuzz_srcs,$(1)) -o $$@
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call FUZZ_RULE,$(t))))

.PHONY: fuzz fuzz-replay
fuzz: deps $(addprefix $(FUZZ_BUILD)/bin/,$(FUZZ_TARGETS)) $(addprefix $(FUZZ_BUILD)/cov/,$(FUZZ_TARGETS))
	@sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay: deps $(addprefix $(FUZZ_BUILD)/replay/,$(FUZZ_TARGETS))
	@fail=0; for t in $(FUZZ_TARGETS); do \
	    printf '== fuzz-replay %s: ' $$t; \
	    $(FUZZ_BUILD)/replay/$$t tests/fuzz/corpus/$$t tests/fuzz/crash/$$t || fail=1; \
	done; [ $$fail = 0 ] || { echo "fuzz-replay FAILED"; exit 1; }
