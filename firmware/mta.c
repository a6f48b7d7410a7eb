/* Start-up and main loop. */
#include "mta.h"

#include "board.h"
#include "con.h"
#include "evt.h"
#include "nif.h"
#include "cmd.h"
#include "clock.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "lwip/err.h"

static const char *mta_netif_name(uint8_t idx)
{
    return nif_at(idx) != NULL ? nif_name(idx) : NULL;
}

static const char *mta_err_text(int32_t err)
{
    if (err < 0 && err >= -16) {
        return lwip_strerr((err_t)err);
    }
    return NULL;
}

static const evt_resolvers_t mta_resolvers = {
    .netif_name = mta_netif_name,
    .err_text = mta_err_text,
    .wallclock = clock_at_uptime,
};

uint32_t mta_uptime_s(void)
{
    return board_now_ms() / 1000u;
}

/* Console output goes to the board's UART without ever waiting on it: what
 * the UART does not take now stays in the console ring for the next pass. */
static void mta_console_service(void)
{
    uint8_t buf[64];
    size_t n = board_console_read(buf, sizeof(buf));
    if (n == BOARD_CONSOLE_EOF) {
        mta_shutdown(false, 0);
    }
    if (n > 0) {
        con_input(buf, n);
    }
    static uint8_t out[256]; /* bytes read from the ring but not yet taken by the UART */
    static size_t out_len, out_off;
    for (int i = 0; i < 8; i++) {
        if (out_off == out_len) {
            out_len = con_output_read(out, sizeof(out));
            out_off = 0;
            if (out_len == 0) {
                break;
            }
        }
        size_t w = board_console_write(out + out_off, out_len - out_off);
        out_off += w;
        if (w == 0) {
            break;
        }
    }
}

/* Let the console drain (bounded: a stuck terminal must not stop a poweroff). */
static void mta_console_flush(void)
{
    uint32_t t0 = board_now_ms();
    while (con_output_pending() > 0 && board_now_ms() - t0 < 1000u) {
        uint8_t out[128];
        size_t n = con_output_read(out, sizeof(out));
        size_t off = 0;
        while (off < n && board_now_ms() - t0 < 1000u) {
            off += board_console_write(out + off, n - off);
        }
    }
}

void mta_shutdown(bool reboot, int status)
{
    mta_console_flush();
    if (reboot) {
        board_reboot();
    }
    board_poweroff(status);
}

void mta_run(int argc, char **argv)
{
    board_init(argc, argv);
    evt_init(board_now_ms);
    evt_set_resolvers(&mta_resolvers);
    lwip_init();
    board_netifs_init();
    cmd_init();
    evt_log(EVT_SYS_BOOT, EVT_SRC_NONE, evt_pack_boot(0, MTA_VERSION_MAJOR, MTA_VERSION_MINOR, MTA_VERSION_PATCH));
    con_start();

    for (;;) {
        board_poll();           /* drivers -> lwIP input */
        sys_check_timeouts();   /* lwIP and MTA timers */
        cmd_poll();             /* MTA work */
        mta_console_service();  /* console in and out */
        if (con_output_pending() == 0) {
            board_idle(10);
        }
    }
}
