# Native Linux build of the same firmware: TAP netifs, console on stdin/stdout.
CC          := gcc
NM          := nm
ARCH_FLAGS  :=
OPT         := -O2
BOARD_SRCS  := boards/host/board.c
DRIVER_SRCS := drivers/tap/tap.c drivers/flash/flash_file.c drivers/flash/flash_sim.c
BOARD_LDFLAGS := -Wl,--gc-sections
IMAGE       := $(BUILD)/mta-host
# The host board has no fixed budget; these are the mps2-an385 figures, so
# `make size BOARD=host` shows how the same code would fit there.
FLASH_BUDGET := 524288
RAM_BUDGET   := 262144
