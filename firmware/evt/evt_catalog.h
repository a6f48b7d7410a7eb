/* Event catalogue: the ONE table of every event the MTA can log, and the
 * table of fatal-initialisation cause codes.  X-macro file: deliberately no
 * include guard.  Define the macro(s) you need, then include this file:
 *
 *   EVT_DEF(ID, SYMBOL, SEVERITY, CATEGORY, ARGKIND, "message", "explanation")
 *     ID        decimal event number shown to users (1..65535, unique:
 *               evt.c turns the table into a switch, so a duplicate ID is a
 *               compile error).
 *     SYMBOL    generates EVT_<SYMBOL> in evt.h (enum evt_id_t).
 *     SEVERITY  DEBUG INFO NOTICE WARNING ERROR CRITICAL -> EVT_SEV_<x>.
 *     CATEGORY  SYSTEM NETIF SMTPD SMTPC QUEUE STORE CONFIG CONSOLE TLS
 *               -> EVT_CAT_<x>.
 *     ARGKIND   how the 32-bit argument is encoded -> EVT_ARG_<x>, see
 *               evt_argkind_t in evt.h.
 *     message   one-line template for evt_format().  Tokens:
 *                 {netif} src as netif index  -> name from resolver / "if<n>"
 *                 {peer}  src as peer index   -> 'name' from resolver / "#<n>"
 *                 {queue} src as queue number -> "1 (deferred)"
 *                 {src}   src as a plain number
 *                 {arg}   the argument rendered per ARGKIND
 *               Entries with ARGKIND NONE must not use {arg}; all others
 *               must (checked by tests/unit/test_evt.c).
 *     explanation  what happened and what the user should do, for the
 *               console command `events explain ID`.
 *
 *   EVT_CAUSE_DEF(NUMBER, SYMBOL, "text")  -> EVT_CAUSE_<SYMBOL>; the argument
 *               of EVT_MTA_INIT_FATAL (9266).  0 is reserved for "none".
 *
 * A macro that is not defined by the includer expands to nothing; both are
 * #undef'd at the end of this file.
 *
 * Numbering.  2xxx and 9xxx IDs are inherited from the previous MTA product:
 * field engineers know them, so their numbers and meanings must never change.
 * IDs chosen for this product live in 1000..1999, one block per category:
 *   10xx system   11xx netif   12xx smtpd (inbound)   13xx smtpc (outbound)
 *   14xx queue    15xx config  16xx console           17xx tls
 *   18xx store    19xx reserved
 * An ID, once released, is never reused for a different meaning.
 *
 * The comment above each entry gives what the caller passes as src / arg
 * ("src -" means EVT_SRC_NONE).
 */

#ifndef EVT_DEF
#define EVT_DEF(id, sym, sev, cat, kind, msg, help)
#endif
#ifndef EVT_CAUSE_DEF
#define EVT_CAUSE_DEF(num, sym, text)
#endif

/* ---- inherited IDs (meanings fixed by the previous MTA) ---------------- */

/* src peer index; arg evt_pack_netif_mta_err(netif index, err): the tagged
 * error (lib/err.h), so each kind is rendered in its own words. */
EVT_DEF(9318, MTA_BIND_FAIL, WARNING, SMTPC, NETIF_ERR,
        "could not bind to peer {peer} over {arg}",
        "The MTA could not open an SMTP session to this peer MTA: the TCP "
        "connection, the 220 greeting, the TLS the peer's level requires, or "
        "AUTH failed. The error is an lwIP error (err -N), an SMTP reply "
        "('reply malformed': the peer's answer is no SMTP at all, e.g. a web "
        "server), the MTA's own (local -N) "
        "or a TLS error (tls -0x7080: the peer offered no STARTTLS or no TLS "
        "session was free; tls -0x2700: its certificate failed 'verify' or "
        "'fingerprint', see 1706). 'reply 530' with AUTH configured means AUTH "
        "was refused, or could not be tried (no common mechanism, or no TLS "
        "and no plaintext-ok). Mail for this peer stays queued and is retried "
        "later. Check the peer address, that it is reachable over the named "
        "interface (link, route, firewall), that it accepts mail from this "
        "gateway, and 'peer tls' / 'peer auth' / 'tls ca'.")

/* src netif index; arg lwIP err_t (negative). */
EVT_DEF(9321, MTA_LISTEN_FAIL, ERROR, NETIF, ERR,
        "could not listen on {netif}: {arg}",
        "The SMTP listener could not be opened on this interface (typically "
        "the port is already in use, or the interface has no address or is "
        "out of PCBs). The other interfaces keep serving; this one accepts no "
        "mail until its listener opens. The MTA retries by itself, every few "
        "seconds and when a link, address or listener setting changes; 1200 "
        "follows on success. Check the address and 'show listeners'.")

/* src -; arg cause code EVT_CAUSE_x. */
EVT_DEF(9266, MTA_INIT_FATAL, ERROR, SYSTEM, CAUSE,
        "fatal error while initialising the MTA: {arg}",
        "Start-up found a fault; what still works depends on the cause. No "
        "interface: none is enabled, so no mail flows until one is ('interface "
        "NAME up'). Configuration slot corrupt: the MTA runs and relays on the "
        "other slot if it is valid (1501), else on factory defaults; check "
        "'show running-config' and 'save'. Message store: mail is queued in "
        "RAM instead (less room, lost at power-off), or refused if that fails "
        "too. The console stays usable. If a store or pool cause persists "
        "after a reboot, report it to support with the output of `events`.")

/* src -; arg 0. */
EVT_DEF(2219, STORE_RECOVERY_START, WARNING, STORE, NONE,
        "message store is being recovered: MTA was not shut down cleanly",
        "The MTA was stopped by a power loss, reset or crash, so the message "
        "store is checked before use. A message being received at that "
        "moment may be lost; its sender will retry. No action is needed "
        "unless this happens repeatedly, which points to unstable power or a "
        "firmware fault.")

/* src queue number (0 active, 1 deferred, 2 bounce); arg 0. */
EVT_DEF(2206, STORE_RECOVERY_QUEUE, WARNING, STORE, NONE,
        "recovery is checking queue {queue}",
        "Progress of message store recovery: the named queue is being "
        "scanned and damaged records removed. No action is needed; a "
        "recovery-completed event follows.")

/* src -; arg evt_pack_recovery(messages recovered, records discarded). */
EVT_DEF(2207, STORE_RECOVERY_DONE, INFO, STORE, RECOVERY,
        "recovery completed: {arg}",
        "Message store recovery finished and the MTA resumes normal "
        "operation. Recovered messages are delivered normally. Discarded "
        "records were damaged and could not be saved; if any were discarded, "
        "the affected senders may need to resend.")

/* ---- 10xx system -------------------------------------------------------- */

/* src -; arg evt_pack_boot(reset cause, major, minor, patch). */
EVT_DEF(1000, SYS_BOOT, NOTICE, SYSTEM, BOOT,
        "system started: {arg}",
        "The gateway booted. The reset cause is the board's code for why the "
        "previous run ended (see the board manual). Unexpected watchdog or "
        "fault resets should be reported to support.")

/* src -; arg new wall-clock time, Unix seconds UTC. */
EVT_DEF(1001, SYS_CLOCK_SET, INFO, SYSTEM, EPOCH,
        "clock set to {arg}",
        "The wall clock was set (from the console or the network). Event "
        "times are shown as date and time from now on. No action needed.")

/* src -; arg number of records that were in the ring. */
EVT_DEF(1002, SYS_EVENTS_CLEARED, NOTICE, SYSTEM, COUNT,
        "event log cleared ({arg} records discarded)",
        "An operator cleared the event log from the console. Sequence "
        "numbers keep counting, so the gap shows how many events were "
        "removed. No action needed.")

/* src -; arg source line of the failed assertion. */
EVT_DEF(1003, SYS_ASSERT, CRITICAL, SYSTEM, COUNT,
        "internal error: assertion failed at line {arg}",
        "The firmware detected a bug in itself and stopped or restarted "
        "rather than continue in a corrupt state. Report it to support with "
        "the firmware version (see the 1000 event) and the output of "
        "`events`.")

/* ---- 11xx netif --------------------------------------------------------- */

/* src netif index; arg 0. */
EVT_DEF(1100, NETIF_LINK_UP, INFO, NETIF, NONE,
        "link up on {netif}",
        "The interface has link. No action needed.")

/* src netif index; arg 0. */
EVT_DEF(1101, NETIF_LINK_DOWN, WARNING, NETIF, NONE,
        "link down on {netif}",
        "The interface lost link; no mail can be received or sent over it "
        "until it comes back. Check the cable, the switch port or the modem.")

/* src netif index; arg new IPv4 address, host order (a.b.c.d = bits 31..0). */
EVT_DEF(1102, NETIF_ADDR, NOTICE, NETIF, IPV4,
        "address of {netif} changed to {arg}",
        "The interface got a new IPv4 address (DHCP or configuration). "
        "Clients and peers that use the old address must be updated. "
        "0.0.0.0 means the address was removed.")

/* ---- 12xx smtpd (inbound) ----------------------------------------------- */

/* src netif index; arg TCP port. */
EVT_DEF(1200, SMTPD_LISTENING, INFO, SMTPD, COUNT,
        "listener started on {netif} port {arg}",
        "The MTA accepts SMTP connections on this interface and port. No "
        "action needed.")

/* src netif index; arg message id. */
EVT_DEF(1201, SMTPD_MSG_ACCEPTED, INFO, SMTPD, MSGID,
        "message {arg} accepted on {netif}",
        "A message was received, stored and acknowledged with 250; the MTA "
        "is now responsible for delivering it. No action needed.")

/* src netif index; arg client IPv4 address, host order. */
EVT_DEF(1202, SMTPD_SESSION_LIMIT, WARNING, SMTPD, IPV4,
        "session limit reached on {netif}: 421 given to {arg}",
        "All inbound SMTP sessions are in use so this client was refused "
        "with 421 and will retry later. If this is frequent, raise the "
        "session limit (memory permitting) or look for a client that holds "
        "sessions open.")

/* src netif index; arg client IPv4 address, host order. */
EVT_DEF(1203, SMTPD_RELAY_DENIED, NOTICE, SMTPD, IPV4,
        "relay denied to {arg} on {netif}: 5.7.1 given",
        "A client tried to send mail to a domain this gateway does not relay "
        "for, from an address that is not allowed to relay. The recipient "
        "was refused with 5.7.1. If the client is legitimate, add its "
        "network or the domain to the relay configuration.")

/* src netif; arg client IPv4 (host order). */
EVT_DEF(1204, SMTPD_AUTH_FAIL, WARNING, SMTPD, IPV4,
        "SMTP AUTH failed on {netif} from {arg}",
        "A client gave a wrong user name or password. Each failure is "
        "answered after a delay; repeated failures from one address may be "
        "a password-guessing attack.")

/* ---- 13xx smtpc (outbound) ---------------------------------------------- */

/* src peer index; arg message id. */
EVT_DEF(1300, SMTPC_DELIVERED, INFO, SMTPC, MSGID,
        "message {arg} delivered to peer {peer}",
        "The peer MTA accepted the message for all remaining recipients and "
        "it was removed from the queue. No action needed.")

/* src peer index; arg message id. */
EVT_DEF(1301, SMTPC_RCPT_DEFERRED, NOTICE, SMTPC, MSGID,
        "recipient of message {arg} deferred by peer {peer}",
        "The peer MTA answered a recipient with a temporary (4xx) error. The "
        "message stays in the deferred queue and is retried. No action is "
        "needed unless it finally expires.")

/* ---- 14xx queue --------------------------------------------------------- */

/* src -; arg message id. */
EVT_DEF(1400, QUEUE_BOUNCED, NOTICE, QUEUE, MSGID,
        "message {arg} bounced: DSN generated",
        "Delivery failed permanently (5xx from the peer or expiry) and a "
        "delivery status notification was queued for the sender. Check the "
        "recipient address or the peer's reason in its logs.")

/* src queue number the message expired in; arg message id. */
EVT_DEF(1401, QUEUE_EXPIRED, WARNING, QUEUE, MSGID,
        "message {arg} expired in queue {queue}",
        "The message could not be delivered within the maximum queue time "
        "and was given up (a bounce follows unless it was a bounce itself). "
        "Look for earlier 9318 events for the peer.")

/* src netif index the client came in on; arg messages in the queue. */
EVT_DEF(1402, QUEUE_FULL, WARNING, QUEUE, COUNT,
        "queue full: 452 given on {netif} ({arg} messages queued)",
        "The message store has no room, so new mail is refused with 452 and "
        "senders retry later. Check that the peer MTAs accept mail (see "
        "9318 events); the queue drains once delivery resumes.")

/* src -; arg message id. */
EVT_DEF(1403, QUEUE_DELAY_WARNED, NOTICE, QUEUE, MSGID,
        "message {arg} delayed: warning DSN generated",
        "Recipients of the message have waited longer than `queue warn` and "
        "the sender was told (RFC 3464 Action: delayed); delivery goes on "
        "being retried. Look for 9318 or 1301 events for the reason.")

/* ---- 15xx config -------------------------------------------------------- */

/* src configuration slot; arg configuration generation number. */
EVT_DEF(1500, CONFIG_SAVED, INFO, CONFIG, COUNT,
        "configuration saved to slot {src} (generation {arg})",
        "The configuration was written to flash and is used at next boot. "
        "No action needed.")

/* src configuration slot; arg configuration generation number. */
EVT_DEF(1501, CONFIG_LOADED, INFO, CONFIG, COUNT,
        "configuration loaded from slot {src} (generation {arg})",
        "The configuration was read from flash at boot or by the console. "
        "If the generation is older than expected, the newer slot was "
        "unreadable: check for a 9266 event.")

/* ---- 16xx console ------------------------------------------------------- */

/* src console channel; arg consecutive failed attempts. */
EVT_DEF(1600, CONSOLE_LOGIN_FAIL, WARNING, CONSOLE, COUNT,
        "console login failed on channel {src} ({arg} consecutive failures)",
        "A wrong console password was given. Repeated failures may be an "
        "attack on the management interface: restrict who can reach it.")

/* ---- 17xx TLS ------------------------------------------------------------ */

/* src -; arg bytes in the session arena. */
EVT_DEF(1700, TLS_READY, INFO, TLS, COUNT,
        "TLS ready ({arg} bytes of session memory)",
        "mbedTLS is initialised: the random generator is seeded (board source "
        "and the seed in flash, refreshed at this boot) and the certificates "
        "are loaded. STARTTLS is offered on the listeners whose policy allows it.")

/* src -; arg the mbedTLS error magnitude. */
EVT_DEF(1701, TLS_INIT_FAIL, ERROR, TLS, ERR,
        "TLS could not start: {arg}",
        "The TLS library could not be initialised (usually the random "
        "generator could not be seeded). STARTTLS is not offered and peers "
        "that require TLS are deferred. Reboot; if it persists, the board's "
        "entropy source is broken.")

/* src netif; no arg. */
EVT_DEF(1702, TLS_CERT_GENERATED, NOTICE, TLS, NONE,
        "self-signed certificate made for {netif}",
        "The interface had no certificate, so an ECDSA P-256 certificate for "
        "its hostname was generated and stored in flash. Clients that verify "
        "certificates will not trust it: paste a real one with 'tls cert'.")

/* src netif; arg the mbedTLS error magnitude. */
EVT_DEF(1703, TLS_CERT_ERROR, WARNING, TLS, ERR,
        "no usable certificate for {netif}: {arg}",
        "The interface's certificate could not be made or loaded, so STARTTLS "
        "is not offered there. Check 'show tls' and paste a certificate and "
        "key with 'tls cert'.")

/* src netif; arg the mbedTLS error magnitude. */
EVT_DEF(1704, TLS_INBOUND_FAIL, NOTICE, TLS, ERR,
        "inbound TLS handshake on {netif} failed: {arg}",
        "A client started STARTTLS but the handshake failed (no common "
        "suite, the client rejected our certificate, or the connection was "
        "lost). The connection was closed; nothing was accepted on it.")

/* src netif (inbound) or peer (outbound, EVT_SRC_NONE if unknown); arg TLS_MAX_SESSIONS. */
EVT_DEF(1705, TLS_SESSIONS_FULL, NOTICE, TLS, COUNT,
        "no TLS session free (all {arg} in use)",
        "STARTTLS was answered 454 4.7.0 (inbound), or an outbound connection "
        "went on without TLS (level may) or was deferred (encrypt, verify, "
        "fingerprint). The number of concurrent TLS sessions is fixed by the "
        "board's memory budget; 'show tls' shows the use.")

/* src peer; arg the X.509 verification flags (mbedTLS MBEDTLS_X509_BADCERT_*). */
EVT_DEF(1706, TLS_PEER_UNTRUSTED, WARNING, TLS, HEX,
        "certificate of peer {peer} not accepted (flags {arg})",
        "The peer's level is verify or fingerprint and its certificate did not "
        "pass: flag 0x08 not trusted by a configured CA ('tls ca add'), 0x04 "
        "name mismatch with the configured hostname, 0x01 expired, 0x200 not "
        "yet valid, 0x80000000 pinned fingerprint differs. A 9318 follows; mail stays "
        "queued.")

/* ---- cause codes for EVT_MTA_INIT_FATAL (9266) -------------------------- */

EVT_CAUSE_DEF(1, NO_NETIF,       "no interface could be used")
EVT_CAUSE_DEF(2, CONFIG_CORRUPT, "configuration slot corrupt")
EVT_CAUSE_DEF(3, STORE_INIT,     "message store could not be initialised")
EVT_CAUSE_DEF(4, POOL,           "memory pool exhausted")
EVT_CAUSE_DEF(5, TLS_INIT,       "TLS could not be initialised")

#undef EVT_DEF
#undef EVT_CAUSE_DEF
