/* lwIP system glue shared by every board: time, randomness, diagnostics. */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "board.h"
#include "evt.h"

u32_t sys_now(void)
{
    return board_now_ms();
}

uint32_t port_rand(void)
{
    return board_rand();
}

void port_diag(const char *msg)
{
    (void)msg;
}

/* An lwIP assertion is a bug in this firmware or in lwIP, never bad input:
 * record it (the ring survives for `events` after a reboot only in RAM that
 * is not cleared, so we also stop here) and power off with status 4 so that
 * a test run sees it instead of continuing with a corrupt stack. */
void port_assert(const char *msg, const char *file, int line)
{
    (void)msg;
    (void)file;
    evt_log(EVT_SYS_ASSERT, EVT_SRC_NONE, (uint32_t)line);
    board_poweroff(4);
}
