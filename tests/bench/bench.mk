# Relay benchmark (tests/bench/README.md).  Included from the top-level Makefile.
#
#   make bench                       host board vs Postfix: N=5000 S=2048 C=20
#   make bench N=1000 S=8192 C=5     other load
#   make bench SWEEP=1               + C in 1,5,20,50 x S in 512..65536 -> build/bench/sweep.{csv,png}
#   make bench BOARD=mps2-an385      instructions per message in QEMU -icount (S=512,2048,8192)
#
# `make bench` benchmarks the host board unless BOARD is given on the command
# line or in the environment (the Makefile's own default, mps2-an385, is for
# building).  BENCH_BOARD is the board to build before bench-run.  Only the
# knobs that were given are passed on, so bench.py's per-board defaults apply
# to the rest (mps2-an385: N=200, C=1).

BENCH_BOARD := $(if $(filter command line environment,$(origin BOARD)),$(BOARD),host)
BENCH_KNOBS := $(strip $(foreach v,N S C SWEEP,$(if $(filter command line environment,$(origin $(v))),$(v)=$($(v)))))
BENCH_CMDLINE := make bench$(if $(filter command line,$(origin BOARD)), BOARD=$(BOARD))$(if $(BENCH_KNOBS), $(BENCH_KNOBS))

.PHONY: bench-run
bench-run:
	@$(or $(PYTHON),/usr/bin/python3) tests/bench/bench.py --board $(BENCH_BOARD) \
	    $(if $(filter command line environment,$(origin N)),--n $(N)) \
	    $(if $(filter command line environment,$(origin S)),--size $(S)) \
	    $(if $(filter command line environment,$(origin C)),--sessions $(C)) \
	    $(if $(filter 1 yes y true,$(SWEEP)),--sweep) \
	    --command "$(BENCH_CMDLINE)"

# make profile BOARD=mps2-an385 [M3PROF=DIR]: where the Cortex-M3 spends its
# instructions, per function and per part of the relay (tests/bench/README.md).
# The profiler (a QEMU TCG plugin and its scripts) is a shared tool outside
# this repository; it is not copied here.
M3PROF ?= ../shared/tools/m3prof
PROFILE_OUT ?= build/profile

.PHONY: profile
profile: deps
	@[ "$(BOARD)" = mps2-an385 ] || { echo "make profile: only BOARD=mps2-an385 (QEMU -icount) is profiled"; exit 2; }
	@[ -x "$(M3PROF)/run.sh" ] || { echo "make profile: the m3prof tool is not at $(M3PROF)/run.sh;" \
	    "give its directory as M3PROF=DIR (tests/bench/README.md)"; exit 2; }
	@$(MAKE) --no-print-directory BOARD=mps2-an385 all
	@sh $(M3PROF)/run.sh . $(PROFILE_OUT)
	@echo "make profile: per-run details in $(PROFILE_OUT)/<run>/ (analyze.txt, calltree.txt, segments.txt, summary.json)"

# Postfix at its default concurrency through mps2-an385 (issue 13):
#   make bench-postfix [N=500] [S=2048] [FAST_RETRY=1]
.PHONY: bench-postfix
bench-postfix: all
	@$(or $(PYTHON),/usr/bin/python3) tests/bench/postfix_mps2.py \
	    $(if $(filter command line environment,$(origin N)),--n $(N)) \
	    $(if $(filter command line environment,$(origin S)),--size $(S)) \
	    $(if $(filter 1 yes y true,$(FAST_RETRY)),--fast-retry)
