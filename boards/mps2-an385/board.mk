# ARM MPS2 AN385 (Cortex-M3) -- the first product board, run under QEMU.
CC          := arm-none-eabi-gcc
NM          := arm-none-eabi-nm
ARCH_FLAGS  := -mcpu=cortex-m3 -mthumb
# -O2, not -Os: the relay costs 8% fewer instructions per message (make bench
# BOARD=mps2-an385: 203k -> 187k per 2 KiB message) and TLS handshakes 13%
# fewer, for 38 KiB more flash (275 of the 512 KiB; README, Performance).
# No LTO: make size's per-module split and port/check_heap.sh read the
# objects, which LTO would leave without code.
OPT         := -O2
BOARD_SRCS  := boards/mps2-an385/vectors.c boards/mps2-an385/board.c
# drivers/cortex_m: the core's start-up, vector entries and semihosting (the
# arch layer, not this board's own code); the flash is the semihosted driver.
DRIVER_SRCS := drivers/cortex_m/startup.c drivers/cortex_m/semihost.c drivers/cmsdk_uart/cmsdk_uart.c \
               drivers/lan9118/lan9118.c drivers/flash/flash_semihost.c
BOARD_LDFLAGS := -nostartfiles --specs=nano.specs -Wl,--gc-sections -T boards/mps2-an385/link.ld \
                 -Wl,--no-warn-rwx-segments
BOARD_LWIP_SRCS := $(LWIPDIR)/netif/slipif.c
IMAGE       := $(BUILD)/mta.elf
# The product's budget (QEMU's board has more); link.ld enforces the same numbers.
FLASH_BUDGET := 524288
RAM_BUDGET   := 262144

QEMU        := qemu-system-arm
# eth0: QEMU user networking, isolated (restrict=on).  Host 127.0.0.1:SMTP_PORT
# reaches the device's port 25; the device's smarthost 10.0.2.100:25 reaches
# host 127.0.0.1:SMARTHOST_PORT through socat, one host connection per guest
# connection (the plain guestfwd form connects only once, at QEMU start).
QEMU_NIC     = user,model=lan9118,restrict=on,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:$(SMTP_PORT)-:25,guestfwd=tcp:10.0.2.100:25-cmd:socat - TCP:127.0.0.1:$(SMARTHOST_PORT)
# sl0 (UART1): a unix socket when SL0_SOCKET is set (tests/tools/slip_tun.py
# bridges it to a TUN device), else not connected.
SL0_SERIAL   = $(if $(SL0_SOCKET),-chardev socket$(comma)id=sl0$(comma)path=$(SL0_SOCKET)$(comma)server=on$(comma)wait=off -serial chardev:sl0,-serial null)
# The firmware keeps its flash in "flash.img" in QEMU's working directory:
# run QEMU in the directory of $(FLASH), naming the file there if needed.
QEMU_CMD     = cd $(dir $(FLASH)) && { [ "$(notdir $(FLASH))" = flash.img ] || ln -sf "$(notdir $(FLASH))" flash.img; } && \
               $(QEMU) -M mps2-an385 -nographic -serial mon:stdio $(SL0_SERIAL) \
               -semihosting-config enable=on,target=native \
               -nic "$(QEMU_NIC)" -kernel $(abspath $(IMAGE))
