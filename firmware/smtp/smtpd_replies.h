/*
 * smtp_replies.h -- the ONE catalogue of every reply the SMTP server sends.
 * X-macro file: deliberately no include guard. Define SMTP_REPLIES_DEF, then
 * include this file; it is #undef'd at the end.
 *
 *   SMTP_REPLIES_DEF(ID, CODE, "ENH", "text")
 *     ID    -> SMTPD_R_<ID> inside smtpd.c
 *     CODE  RFC 5321 4.2 reply code
 *     ENH   RFC 3463 enhanced status code (RFC 2034), or "" where RFC 2034
 *           section 3 excludes it: the 220 greeting, every reply to HELO /
 *           EHLO, and 3xx intermediate replies (354, 334) which have no class 3
 *           enhanced codes.
 *     text  reply text. At most one conversion, "%s", filled by the engine
 *           (hostname, number as text). Texts never contain CR/LF or any
 *           other '%'.
 * A reply is sent as "CODE[ |-]ENH text\r\n".
 *
 * Choices for cases the RFCs leave open (documented here, tested in
 * tests/unit/test_smtpd.c):
 *   - command line > 512 octets incl. CRLF (RFC 5321 4.5.3.1.4):
 *     500 5.5.2, sent when its LF arrives; the line is discarded, never run.
 *   - command line with a bare CR, or ended by a bare LF: 500 5.5.2, not run.
 *   - bare CR or LF in DATA (CVE-2023-51764 "SMTP smuggling"): 554 5.6.0 --
 *     554 "transaction failed" (RFC 5321 4.2.3) rather than 550, which names
 *     a mailbox problem. Nothing is stored.
 *   - DATA line > 1000 octets incl. CRLF (RFC 5321 4.5.3.1.6): 500 5.6.0
 *     (RFC 5321 4.5.3.1.10 lists "500 Line too long").
 *   - message larger than the limit, at MAIL SIZE= or during DATA: 552 5.3.4
 *     (RFC 1870 section 6).
 *   - queue full at MAIL, RCPT, DATA or end of data: 452 4.3.1
 *     (RFC 3463 "mail system full"); queue says too big: 552 5.3.4; any
 *     other queue error: 451 4.3.0.
 *   - DATA after MAIL whose RCPTs were all rejected: 554 5.5.1 "No valid
 *     recipients" (RFC 5321 3.3, RFC 2920 3.1); DATA before MAIL: 503 5.5.1.
 *   - DATA/RSET/QUIT with an argument, VRFY without: 501 5.5.4.
 *   - too many errors (max_errors 4xx/5xx replies): the error reply, then
 *     421 4.7.0, then the connection is closed.
 *   - timeouts: 421 4.4.2 (RFC 3463 "bad connection").
 *   - STARTTLS (RFC 3207): only after HELO/EHLO (503 5.5.1 "Send HELO/EHLO
 *     first" before -- RFC 3207 does not forbid it, but the EHLO reply is
 *     how a client learns that STARTTLS exists) and outside a transaction
 *     (503 5.5.1); with an argument 501 5.5.4; when TLS is already active
 *     503 5.5.1; when not offered at all 502 5.5.1 as before.
 *   - AUTH (RFC 4954) when not offered: 502 5.5.1, like any known but
 *     unoffered command. Before HELO/EHLO 503 5.5.1; during a transaction or
 *     once authenticated 503 5.5.1 (RFC 4954 4); before TLS 538 5.7.11, or
 *     530 5.7.0 "Must issue a STARTTLS command first" when TLS is required;
 *     missing mechanism or a third word 501 5.5.4; unknown mechanism
 *     504 5.5.4; "*" 501 5.0.0; undecodable response 501 5.5.2 (also for a
 *     LOGIN user/password that is empty or holds a NUL, and for credentials
 *     over the sasl.h size limits); wrong credentials 535 5.7.8, sent only
 *     after SMTPD_AUTH_FAIL_DELAY_MS. 334 challenges carry no enhanced code
 *     (3xx, RFC 2034 section 3). No reply ever echoes a user name or
 *     password.
 *   - MAIL ... AUTH=: accepted and ignored once AUTH is offered (RFC 4954 5
 *     allows treating every client as insufficiently trusted), else 555.
 */

/* ---- connection ------------------------------------------------------ */
SMTP_REPLIES_DEF(GREETING,        220, "",      "%s ESMTP ready")
SMTP_REPLIES_DEF(BUSY,            421, "4.3.2", "Too many connections, try again later")
SMTP_REPLIES_DEF(TIMEOUT,         421, "4.4.2", "%s Timeout, closing connection")
SMTP_REPLIES_DEF(TOO_MANY_ERRORS, 421, "4.7.0", "%s Too many errors, closing connection")
SMTP_REPLIES_DEF(QUIT,            221, "2.0.0", "%s closing connection")

/* ---- HELO / EHLO (no enhanced codes, RFC 2034 section 3) -------------- */
SMTP_REPLIES_DEF(HELO,            250, "",      "%s")
SMTP_REPLIES_DEF(EHLO,            250, "",      "%s")
SMTP_REPLIES_DEF(EHLO_PIPELINING, 250, "",      "PIPELINING")
SMTP_REPLIES_DEF(EHLO_SIZE,       250, "",      "SIZE %s")
SMTP_REPLIES_DEF(EHLO_8BITMIME,   250, "",      "8BITMIME")
SMTP_REPLIES_DEF(EHLO_ENHANCED,   250, "",      "ENHANCEDSTATUSCODES")
SMTP_REPLIES_DEF(EHLO_DSN,        250, "",      "DSN")
SMTP_REPLIES_DEF(EHLO_STARTTLS,   250, "",      "STARTTLS")
SMTP_REPLIES_DEF(EHLO_AUTH,       250, "",      "AUTH PLAIN LOGIN")
SMTP_REPLIES_DEF(EHLO_HELP,       250, "",      "HELP")
SMTP_REPLIES_DEF(HELO_SYNTAX,     501, "",      "Syntax: EHLO hostname")

/* ---- MAIL ------------------------------------------------------------- */
SMTP_REPLIES_DEF(MAIL_OK,         250, "2.1.0", "Sender ok")
SMTP_REPLIES_DEF(MAIL_SYNTAX,     501, "5.5.4", "Syntax: MAIL FROM:<address>")
SMTP_REPLIES_DEF(MAIL_BAD_ADDR,   501, "5.1.7", "Bad sender address syntax")
SMTP_REPLIES_DEF(MAIL_NESTED,     503, "5.5.1", "Sender already specified")
SMTP_REPLIES_DEF(NEED_HELO,       503, "5.5.1", "Send HELO/EHLO first")
SMTP_REPLIES_DEF(PARAM_UNKNOWN,   555, "5.5.4", "Unsupported MAIL/RCPT parameter")
SMTP_REPLIES_DEF(PARAM_VALUE,     501, "5.5.4", "Bad %s parameter value")

/* ---- RCPT ------------------------------------------------------------- */
SMTP_REPLIES_DEF(RCPT_OK,         250, "2.1.5", "Recipient ok")
SMTP_REPLIES_DEF(RCPT_SYNTAX,     501, "5.5.4", "Syntax: RCPT TO:<address>")
SMTP_REPLIES_DEF(RCPT_BAD_ADDR,   501, "5.1.3", "Bad recipient address syntax")
SMTP_REPLIES_DEF(NEED_MAIL,       503, "5.5.1", "Need MAIL command first")
SMTP_REPLIES_DEF(TOO_MANY_RCPT,   452, "4.5.3", "Too many recipients")
SMTP_REPLIES_DEF(RELAY_DENIED,    550, "5.7.1", "Relaying denied")

/* ---- DATA ------------------------------------------------------------- */
SMTP_REPLIES_DEF(DATA_GO,         354, "",      "End data with <CR><LF>.<CR><LF>")
SMTP_REPLIES_DEF(NO_VALID_RCPT,   554, "5.5.1", "No valid recipients")
SMTP_REPLIES_DEF(QUEUED,          250, "2.0.0", "Ok: queued as %s")
SMTP_REPLIES_DEF(DATA_BARE_EOL,   554, "5.6.0", "Message rejected: bare CR or LF in data")
SMTP_REPLIES_DEF(DATA_LONG_LINE,  500, "5.6.0", "Message rejected: line longer than 1000 octets")
SMTP_REPLIES_DEF(MSG_TOO_BIG,     552, "5.3.4", "Message size exceeds fixed maximum message size")

/* ---- STARTTLS (RFC 3207) ---------------------------------------------- */
SMTP_REPLIES_DEF(TLS_GO,          220, "2.0.0", "Ready to start TLS")
SMTP_REPLIES_DEF(TLS_UNAVAILABLE, 454, "4.7.0", "TLS not available due to temporary reason")
SMTP_REPLIES_DEF(TLS_ACTIVE,      503, "5.5.1", "TLS already active")
SMTP_REPLIES_DEF(TLS_REQUIRED,    530, "5.7.0", "Must issue a STARTTLS command first")
SMTP_REPLIES_DEF(IN_TRANSACTION,  503, "5.5.1", "Not allowed during a mail transaction")

/* ---- AUTH (RFC 4954) --------------------------------------------------- */
SMTP_REPLIES_DEF(AUTH_PLAIN_GO,   334, "",      "")              /* empty challenge: "334 " */
SMTP_REPLIES_DEF(AUTH_USERNAME,   334, "",      "VXNlcm5hbWU6")  /* base64 "Username:" */
SMTP_REPLIES_DEF(AUTH_PASSWORD,   334, "",      "UGFzc3dvcmQ6")  /* base64 "Password:" */
SMTP_REPLIES_DEF(AUTH_OK,         235, "2.7.0", "Authentication successful")
SMTP_REPLIES_DEF(AUTH_FAILED,     535, "5.7.8", "Authentication credentials invalid")
SMTP_REPLIES_DEF(AUTH_CANCELLED,  501, "5.0.0", "Authentication cancelled")
SMTP_REPLIES_DEF(AUTH_DECODE,     501, "5.5.2", "Cannot decode response")
SMTP_REPLIES_DEF(AUTH_SYNTAX,     501, "5.5.4", "Syntax: AUTH mechanism [initial-response]")
SMTP_REPLIES_DEF(AUTH_MECH,       504, "5.5.4", "Unrecognized authentication type")
SMTP_REPLIES_DEF(AUTH_ALREADY,    503, "5.5.1", "Already authenticated")
SMTP_REPLIES_DEF(AUTH_NEED_TLS,   538, "5.7.11", "Encryption required for requested authentication mechanism")
SMTP_REPLIES_DEF(AUTH_REQUIRED,   530, "5.7.0", "Authentication required")

/* ---- queue / local problems ------------------------------------------- */
SMTP_REPLIES_DEF(QUEUE_FULL,      452, "4.3.1", "Insufficient system storage")
SMTP_REPLIES_DEF(LOCAL_ERROR,     451, "4.3.0", "Local error in processing")

/* ---- other commands --------------------------------------------------- */
SMTP_REPLIES_DEF(OK,              250, "2.0.0", "Ok")
SMTP_REPLIES_DEF(VRFY,            252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery")
SMTP_REPLIES_DEF(HELP,            214, "2.0.0", "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP")
SMTP_REPLIES_DEF(NOT_IMPL,        502, "5.5.1", "Command not implemented")
SMTP_REPLIES_DEF(UNKNOWN,         500, "5.5.2", "Command unrecognized")
SMTP_REPLIES_DEF(LINE_TOO_LONG,   500, "5.5.2", "Line too long")
SMTP_REPLIES_DEF(BARE_EOL_CMD,    500, "5.5.2", "Bare CR or LF in command line")
SMTP_REPLIES_DEF(SYNTAX,          501, "5.5.4", "Syntax error in parameters or arguments")

#undef SMTP_REPLIES_DEF
