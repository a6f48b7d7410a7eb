/* mta_opts.h - every firmware option: unit, default and reason.
 *
 * Layered as lwIP's opt.h: a board sets what it must in its board_opts.h,
 * which the build force-includes before every file; each option below is a
 * default only `#ifndef` the board set it.  lwIP's own options live in
 * port/lwipopts.h (lwIP reads them through its opt.h); rules between an
 * lwIP option and one of these are checked in net/lwip_sys.c, which sees
 * both.  A rule between options is a _Static_assert at the end of this
 * file, never only a comment.
 *
 * Nothing here may include anything: every module header includes this. */
#ifndef MTA_OPTS_H
#define MTA_OPTS_H

/* ---- interfaces (net/nif) ------------------------------------------------ */
#ifndef NIF_MAX
#define NIF_MAX 4            /* interfaces: LAN, WAN, modem + a spare */
#endif
#ifndef NIF_NAME_MAX
#define NIF_NAME_MAX 8       /* bytes incl. NUL of an interface name: "eth0", "sl0", "tap12" */
#endif
#ifndef NIF_HOSTNAME_MAX
/* bytes incl. NUL of an interface's hostname, its identity in EHLO and
 * certificates; RFC 1035 allows 253 octets, a gateway's FQDN is far
 * shorter and `interface NAME hostname` refuses longer ones. */
#define NIF_HOSTNAME_MAX 64
#endif

/* ---- SMTP server (smtp/smtpd, net/smtpd_net) ----------------------------- */
#ifndef SMTPD_MAX_SESSIONS
#define SMTPD_MAX_SESSIONS 8    /* inbound sessions, one per TCP connection (RAM: ~2.5 KiB each) */
#endif
#ifndef SMTPD_OUTBUF
#define SMTPD_OUTBUF 1024       /* bytes of unsent replies per session: a pipelined batch of replies */
#endif
#ifndef SMTPD_LINE_MAX
#define SMTPD_LINE_MAX 512      /* bytes per command line incl. CRLF: RFC 5321 4.5.3.1.4 */
#endif
#define SMTPD_HOSTNAME_MAX NIF_HOSTNAME_MAX  /* the EHLO identity is the interface's hostname */
#define SMTPD_NETIF_NAME_MAX NIF_NAME_MAX    /* the engine names the interface a session arrived on */
#ifndef SMTPD_IP_TEXT_MAX
#define SMTPD_IP_TEXT_MAX 46    /* bytes incl. NUL: INET6_ADDRSTRLEN, fits any IP text */
#endif
#ifndef SMTPD_CLOSE_GRACE_MS
#define SMTPD_CLOSE_GRACE_MS 30000u /* ms to flush the last reply (421, QUIT) before closing anyway */
#endif
#ifndef SMTPD_AUTH_FAIL_DELAY_MS
#define SMTPD_AUTH_FAIL_DELAY_MS 2000u /* ms a 535 (failed AUTH) is held back: slows password guessing */
#endif
#ifndef SMTPD_NET_PORT
#define SMTPD_NET_PORT 25          /* TCP port of a listener until `listener NETIF port N`: RFC 5321 relay port */
#endif
#ifndef SMTPD_NET_QUEUE_FULL_EVT_MS
#define SMTPD_NET_QUEUE_FULL_EVT_MS 60000u /* ms between two 1402 (queue full) events while it stays full: one line a minute, not one per refused client */
#endif
#ifndef SMTPD_NET_WAIT_MAX
/* connections held without a greeting while every session is taken, for a
 * session to free (Postfix keeps them in its listen queue); more get 421 at
 * once.  Each holds a TCP and an altcp PCB (net/lwip_sys.c). */
#define SMTPD_NET_WAIT_MAX 2
#endif
#ifndef SMTPD_NET_WAIT_POLLS
#define SMTPD_NET_WAIT_POLLS 2     /* 0.5 s ticks a held connection waits before its 421: 4.3.2 within ~1 s */
#endif
#ifndef SMTPD_NET_LINGER_POLLS
#define SMTPD_NET_LINGER_POLLS 10  /* 0.5 s ticks after the 421 for the client's FIN before an abort */
#endif
#ifndef SMTPD_NET_SPARE_PCBS
/* TCP PCBs beyond sessions and outbound connections: held and 421
 * connections, closing ones (all at TCP_PRIO_MIN, so a new SYN evicts them)
 * and handshakes in progress. */
#define SMTPD_NET_SPARE_PCBS 4
#endif
#ifndef TCPIO_HEAP_RESERVE
/* bytes of lwIP's heap (MEM_SIZE) delivery's body writes leave free: with 4
 * outbound connections of TCP_SND_BUF each the bodies alone could fill
 * mps2's 20 KiB heap, and a client's 220 or 250 then waited for room, once
 * past Postfix's 20 s timeout.  ~8 greetings or replies of 300 bytes. */
#define TCPIO_HEAP_RESERVE 3072u
#endif
#ifndef SMTPD_NET_BACKLOG
/* handshakes (SYN_RCVD) per listener: lwIP drops a SYN beyond it silently,
 * so it is not what limits connections; the PCB pool is, and a SYN that
 * finds no PCB is reset (net/smtpd_net.c). */
#define SMTPD_NET_BACKLOG 255
#endif
#ifndef SMTPD_IDLE_MIN_MS
/* ms: floor of the idle limit as the session pool fills (the limit is the
 * 5 min of RFC 5321 4.5.3.2.7 scaled by the share of free sessions); Postfix
 * under stress uses 10 s. */
#define SMTPD_IDLE_MIN_MS 10000u
#endif
#ifndef SMTPD_DATA_DEADLINE_MS
#define SMTPD_DATA_DEADLINE_MS (10u * 60u * 1000u) /* ms for a whole DATA block: RFC 5321 4.5.3.2.6 10 min */
#endif
#ifndef SMTPD_DATA_GRACE_MS
#define SMTPD_DATA_GRACE_MS 30000u /* ms of DATA before the minimum rate applies */
#endif
#ifndef SMTPD_MIN_DATA_RATE
/* bytes/s a DATA block must average after the grace: Postfix's
 * smtpd_min_data_rate default (500); a 1 byte/s client is closed at ~30 s. */
#define SMTPD_MIN_DATA_RATE 500u
#endif
#ifndef SMTPD_NET_RETRY_MS
#define SMTPD_NET_RETRY_MS 5000    /* ms between attempts to reopen a failed listener (9321 is logged once per cause) */
#endif

/* ---- SMTP client and delivery (smtp/smtpc, net/smtpc_net) ---------------- */
#ifndef SMTPC_MAX_CONN
#define SMTPC_MAX_CONN 4        /* concurrent outbound connections: peers x parallelism */
#endif
#ifndef SMTPC_OUTBUF
#define SMTPC_OUTBUF 2048       /* bytes of pending output per connection: one TCP MSS of body + a command */
#endif
#ifndef SMTPC_MAX_RCPTS
#define SMTPC_MAX_RCPTS 100     /* recipients per transaction: RFC 5321 4.5.3.1.8 minimum */
#endif
#ifndef SMTPC_READ_CHUNK
#define SMTPC_READ_CHUNK 256    /* bytes of body read from the store per reader call (stack buffer) */
#endif
/* Client timeouts, ms: the RFC 5321 4.5.3.2 values. */
#ifndef SMTPC_TO_GREETING_MS
#define SMTPC_TO_GREETING_MS (5u * 60u * 1000u)   /* 4.5.3.2.1 initial 220: 5 min */
#endif
#ifndef SMTPC_TO_MAIL_MS
#define SMTPC_TO_MAIL_MS (5u * 60u * 1000u)       /* 4.5.3.2.2 MAIL: 5 min; also EHLO/HELO/RSET/QUIT */
#endif
#ifndef SMTPC_TO_RCPT_MS
#define SMTPC_TO_RCPT_MS (5u * 60u * 1000u)       /* 4.5.3.2.3 RCPT: 5 min (per reply) */
#endif
#ifndef SMTPC_TO_DATA_MS
#define SMTPC_TO_DATA_MS (2u * 60u * 1000u)       /* 4.5.3.2.4 DATA initiation: 2 min */
#endif
#ifndef SMTPC_TO_BLOCK_MS
#define SMTPC_TO_BLOCK_MS (3u * 60u * 1000u)      /* 4.5.3.2.5 data block: 3 min without send progress */
#endif
#ifndef SMTPC_TO_DOT_MS
#define SMTPC_TO_DOT_MS (10u * 60u * 1000u)       /* 4.5.3.2.6 DATA termination: 10 min */
#endif
#ifndef SMTPC_REPLY_TEXT_MAX
#define SMTPC_REPLY_TEXT_MAX 160  /* bytes incl. NUL kept of a reply line's text: fits any EHLO keyword line */
#endif
#ifndef SMTPC_REPLY_MAX_LINES
#define SMTPC_REPLY_MAX_LINES 64  /* lines per reply: long banners + ~20 EHLO keywords */
#endif
#ifndef SMTPC_NET_POLL_MS
#define SMTPC_NET_POLL_MS 200          /* ms between queue scans when nothing asked for one */
#endif
#ifndef SMTPC_NET_ADDRBUF
#define SMTPC_NET_ADDRBUF 4096         /* bytes of recipient addresses per connection: ~100 typical addresses */
#endif
#ifndef SMTPC_NET_MAX_MSGS_PER_CONN
#define SMTPC_NET_MAX_MSGS_PER_CONN 50 /* transactions per connection before QUIT: reuse, but let others in */
#endif
#ifndef SMTPC_NET_CONNECT_TIMEOUT_MS
#define SMTPC_NET_CONNECT_TIMEOUT_MS 30000u /* ms for the TCP handshake before the attempt is deferred */
#endif

/* ---- queue and stores (queue/) ------------------------------------------- */
#ifndef QUEUE_MAX_MSGS
#define QUEUE_MAX_MSGS 64          /* message slots (queued + open transactions): at most what the store indexes */
#endif
#ifndef QUEUE_MAX_TXN
#define QUEUE_MAX_TXN SMTPD_MAX_SESSIONS /* open inbound transactions: one per SMTP session */
#endif
#ifndef QUEUE_MAX_RCPT
#define QUEUE_MAX_RCPT 100         /* recipients per message: RFC 5321 4.5.3.1.8 minimum */
#endif
#ifndef QUEUE_MAX_MSG_SIZE
#define QUEUE_MAX_MSG_SIZE (10u * 1024u * 1024u) /* bytes; the store's capacity caps it further */
#endif
#ifndef QUEUE_ADMIT_RESERVE_MAX
/* bytes of store kept free for the open transactions: a new one gets 452
 * 4.3.1 at MAIL once less is left (plus its SIZE); 6 x ~5 KiB messages. */
#define QUEUE_ADMIT_RESERVE_MAX (32u * 1024u)
#endif
#ifndef QUEUE_ADMIT_RESERVE_DIV
#define QUEUE_ADMIT_RESERVE_DIV 8u /* ... or 1/8 of a small store (the 4 KiB RAM fallback) */
#endif
#ifndef QUEUE_RETRY_MIN_S
#define QUEUE_RETRY_MIN_S 60u      /* seconds to the first retry; doubles per attempt */
#endif
#ifndef QUEUE_RETRY_MAX_S
#define QUEUE_RETRY_MAX_S 3600u    /* seconds: backoff ceiling */
#endif
#ifndef QUEUE_LIFETIME_S
#define QUEUE_LIFETIME_S (5u * 24u * 3600u) /* seconds in the queue before a bounce: RFC 5321 4.5.4.1 "at least 4-5 days" */
#endif
#ifndef QUEUE_WARN_S
/* seconds a recipient may wait before its sender gets one "delayed" DSN
 * (RFC 3464 Action: delayed), `queue warn`; 0 = off.  Off by default, as
 * Postfix's delay_warning_time: a gateway's senders are mostly machines
 * (alarms, scanners, printers) that cannot act on a warning, and during a
 * long uplink outage every queued message would send one more mail back
 * through the same queue.  Sites with people as senders set e.g. 14400
 * (sendmail's 4 h). */
#define QUEUE_WARN_S 0u
#endif
#ifndef STORE_REPLY_TEXT_MAX
/* chars of the peer's reply line kept per recipient for the DSN's
 * Diagnostic-Code: all the client engine keeps of a line (SMTPC_REPLY_TEXT_MAX
 * incl. NUL).  A 512-octet line (RFC 5321 4.5.3.1.5) would cost 3 buffers x
 * SMTPC_MAX_CONN in the client plus 2 copies here: ~5 KiB mps2 has not got. */
#define STORE_REPLY_TEXT_MAX (SMTPC_REPLY_TEXT_MAX - 1)
#endif
#ifndef DSN_MAX_RETURN
/* bytes of the original message a RET=FULL report returns (RFC 3461 4.3);
 * larger messages come back as headers only, and the report says so.  64 KiB
 * returns any text message whole and keeps a report far below what the
 * device itself (QUEUE_MAX_MSG_SIZE, the store) and a typical smarthost
 * (Postfix message_size_limit 10 MB) accept. */
#define DSN_MAX_RETURN (64u * 1024u)
#endif
#ifndef DSN_MAX_HEADERS
#define DSN_MAX_HEADERS 4096u  /* bytes of the original header a DSN returns: bounds its size (RFC 3462 allows truncation) */
#endif
#ifndef STORE_RAM_ARENA_SIZE
#define STORE_RAM_ARENA_SIZE (128u * 1024u) /* bytes of message storage in the RAM store; boards size it to their RAM */
#endif
#ifndef STORE_RAM_MAX_MSGS
#define STORE_RAM_MAX_MSGS QUEUE_MAX_MSGS   /* RAM store message slots, sealed + unsealed (<= 65535) */
#endif
#ifndef STORE_RAM_CHUNK_SIZE
#define STORE_RAM_CHUNK_SIZE 256u           /* bytes per RAM store allocation unit: slack per message vs link table */
#endif
#ifndef STORE_FLASH_MAX_MSGS
#define STORE_FLASH_MAX_MSGS QUEUE_MAX_MSGS /* flash store index: messages, sealed + unsealed */
#endif
#ifndef STORE_FLASH_MAX_RCPTS
#define STORE_FLASH_MAX_RCPTS (STORE_FLASH_MAX_MSGS * 8) /* recipients of all messages: 12 bytes of RAM each */
#endif
#ifndef STORE_FLASH_MAX_SECTORS
#define STORE_FLASH_MAX_SECTORS 256  /* sectors per partition: 1 MiB of 4 KiB sectors */
#endif
#ifndef STORE_FLASH_CHUNK_MAX
#define STORE_FLASH_CHUNK_MAX 360u   /* body bytes per record: header overhead vs slack at sector ends */
#endif
#ifndef STORE_FLASH_MAX_OPEN
/* body write buffers of STORE_FLASH_CHUNK_MAX bytes: one per open transaction
 * and one for a DSN being built; more open messages write unbuffered. */
#define STORE_FLASH_MAX_OPEN (QUEUE_MAX_TXN + 1)
#endif

/* ---- routes (route/) ----------------------------------------------------- */
#ifndef ROUTE_MAX_PEERS
#define ROUTE_MAX_PEERS 8      /* peers (smarthosts): a gateway talks to a handful */
#endif
#ifndef ROUTE_MAX_ROUTES
#define ROUTE_MAX_ROUTES 16    /* route patterns: per-domain overrides + the default */
#endif
#ifndef ROUTE_MAX_NETIFS
#define ROUTE_MAX_NETIFS 8     /* interface indices a route decision accepts */
#endif
#ifndef ROUTE_PATTERN_MAX
#define ROUTE_PATTERN_MAX 96   /* bytes incl. NUL of a pattern: routing patterns are short domains */
#endif

/* ---- TLS and AUTH (tls/) ------------------------------------------------- */
#ifndef TLS_MAX_SESSIONS
#define TLS_MAX_SESSIONS 2        /* concurrent TLS sessions, both directions together */
#endif
#ifndef TLS_RESERVE_OUTBOUND
/* TLS sessions inbound STARTTLS cannot take: delivery to a peer that
 * requires TLS always finds one (inbound clients past it get 454 4.7.0). */
#define TLS_RESERVE_OUTBOUND (TLS_MAX_SESSIONS >= 2 ? 1 : 0)
#endif
#ifndef TLS_RESERVE_INBOUND
/* TLS sessions delivery cannot take: a client at smtp_tls_security_level
 * encrypt still gets STARTTLS while the queue drains to a TLS peer. */
#define TLS_RESERVE_INBOUND (TLS_MAX_SESSIONS >= 2 ? 1 : 0)
#endif
#ifndef TLS_ARENA_SIZE
/* bytes of the mbedTLS arena: per session ~16.7 KiB in + 4.4 KiB out record
 * buffers, ~2 KiB context and transforms, ~6 KiB transient during the
 * handshake (ECDHE, the peer's chain); plus ~6 KiB for our parsed
 * certificates and keys and the CA list. `show tls` reports the peak. */
#define TLS_ARENA_SIZE (TLS_MAX_SESSIONS * 30u * 1024u + 8u * 1024u)
#endif
#ifndef TLS_PLAIN_BUF
#define TLS_PLAIN_BUF 512         /* bytes of decrypted input held for the engine per session */
#endif
#ifndef TLS_HANDSHAKE_TIMEOUT_MS
#define TLS_HANDSHAKE_TIMEOUT_MS 30000u /* ms a handshake may take: ~2 s of Cortex-M3 CPU plus slow links */
#endif
#ifndef TLS_MAX_CA
#define TLS_MAX_CA 8              /* CA certificates (`tls ca add`) */
#endif
#ifndef TLS_PASTE_MAX
#define TLS_PASTE_MAX 4096        /* bytes of pasted PEM: a chain plus a key; also the flash blob work buffer */
#endif
#ifndef USERS_MAX
#define USERS_MAX 8               /* SMTP AUTH users: the devices and applications of one site */
#endif
#ifndef PWHASH_ROUNDS
#define PWHASH_ROUNDS 256         /* SHA-256 rounds per password hash: ~0.1 s on a 25 MHz Cortex-M3 */
#endif

/* ---- events (evt/) ------------------------------------------------------- */
#ifndef EVT_RING_CAPACITY
/* records (16 bytes each, so 4 KiB): several hours of a busy relay, enough to
 * cover a failure and the recovery that follows it. */
#define EVT_RING_CAPACITY 256
#endif
#ifndef EVT_FMT_NAME_MAX
/* chars: longest netif/peer name or error text evt_format copies, so one
 * console line stays bounded even with a bad resolver. */
#define EVT_FMT_NAME_MAX 32
#endif

/* ---- console (console/) -------------------------------------------------- */
#ifndef CON_LINE_MAX
#define CON_LINE_MAX 256     /* bytes of input per line: a long "peer add" line fits */
#endif
#ifndef CON_ARGS_MAX
#define CON_ARGS_MAX 16      /* tokens per line, path words included: deepest command + args */
#endif
#ifndef CON_TX_RING
#define CON_TX_RING 16384    /* bytes of output buffering: a full help or config dump without drops */
#endif
#ifndef CON_PRINTF_MAX
#define CON_PRINTF_MAX 256   /* bytes per con_printf() call; longer output is cut with "..." */
#endif

/* ---- flash record store (lib/twoslot) ------------------------------------ */
#ifndef TWOSLOT_MAX
/* bytes: largest blob (running-config, TLS partition); 3.5 KiB of command
 * lines is ~100 lines, and it must fit a 4 KiB sector with the header. */
#define TWOSLOT_MAX 3584u
#endif
#ifndef TWOSLOT_CHUNK
#define TWOSLOT_CHUNK 64u    /* bytes of stack buffer for CRC and blank checks: bigger = fewer flash reads */
#endif

/* ---- rules between options ------------------------------------------------- */
_Static_assert(QUEUE_MAX_TXN == SMTPD_MAX_SESSIONS, "one queue transaction per SMTP session");
_Static_assert(STORE_RAM_MAX_MSGS >= QUEUE_MAX_MSGS && STORE_RAM_MAX_MSGS <= 65535,
               "the RAM store indexes every queue slot");
_Static_assert(STORE_FLASH_MAX_MSGS >= QUEUE_MAX_MSGS, "the flash store indexes every queue slot");
_Static_assert(STORE_FLASH_MAX_RCPTS >= QUEUE_MAX_RCPT, "the flash store holds one full message");
_Static_assert(STORE_FLASH_MAX_OPEN >= 1, "at least one buffered flash writer");
_Static_assert(STORE_REPLY_TEXT_MAX + 1 >= SMTPC_REPLY_TEXT_MAX && STORE_REPLY_TEXT_MAX <= 255,
               "the store keeps a whole reply text as the client gives it (u8 length on flash)");
_Static_assert(DSN_MAX_RETURN + DSN_MAX_HEADERS + 65536u <= QUEUE_MAX_MSG_SIZE,
               "a DSN with the returned message fits back through the queue");
_Static_assert(SMTPC_MAX_RCPTS >= QUEUE_MAX_RCPT, "the client takes every recipient a message can have");
_Static_assert(ROUTE_MAX_NETIFS >= NIF_MAX, "route decisions accept every interface index");
_Static_assert(NIF_MAX <= 254, "interface indices are 8 bits, 0xFF means none");
_Static_assert(ROUTE_MAX_PEERS <= 254, "peer indices are 8 bits, 0xFF means none");
_Static_assert(SMTPD_LINE_MAX >= 512, "RFC 5321 4.5.3.1.4: command lines of 512 octets");
_Static_assert(QUEUE_RETRY_MIN_S >= 1 && QUEUE_RETRY_MIN_S <= QUEUE_RETRY_MAX_S &&
               QUEUE_RETRY_MAX_S <= QUEUE_LIFETIME_S, "retry schedule: first <= max <= lifetime");
_Static_assert(TLS_MAX_SESSIONS >= 1, "TLS needs a session");
_Static_assert(TLS_RESERVE_INBOUND + TLS_RESERVE_OUTBOUND <= TLS_MAX_SESSIONS,
               "the two directions' reserves fit the sessions");
_Static_assert(TLS_ARENA_SIZE >= TLS_MAX_SESSIONS * 24u * 1024u, "the arena holds each session's record buffers");
_Static_assert(CON_PRINTF_MAX <= CON_TX_RING && CON_LINE_MAX <= CON_TX_RING, "one console line fits the ring");
_Static_assert(TWOSLOT_MAX + 32u <= 4096u, "a blob behind its 32-byte header area fits one 4 KiB sector");

#endif
