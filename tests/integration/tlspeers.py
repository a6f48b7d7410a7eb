"""TLS test material and TLS-speaking peers for the STARTTLS / SMTP AUTH tests.

  make_ca, make_cert   a test CA and server certificates signed by it (openssl CLI)
  TlsAuthPeer          a real SMTP server (aiosmtpd, Python's OpenSSL) that offers
                       STARTTLS and AUTH PLAIN/LOGIN and can require both
  InjectPeer           a scripted SMTP server that sends plaintext right behind its
                       220 reply to STARTTLS (tests a *client* for CVE-2011-0411-style
                       STARTTLS command/response injection)
  inject_starttls      a scripted client doing the same to a *server*
  SmtpLines            a small line/reply reader used by the two scripted sides
  smtp_connect, starttls, send_message   a plain SMTP client on SmtpLines

Everything listens on / connects to 127.0.0.1 only.  Every loop is bounded in
count and time; threads are daemons and stop() joins them with a timeout.
"""
import base64
import collections
import hashlib
import os
import re
import select
import socket
import ssl
import subprocess
import tempfile
import threading
import logging
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# ---------------------------------------------------------------------------
# certificates

Cert = collections.namedtuple("Cert", "cert key sha256")
Cert.__doc__ = """cert: PEM certificate path, key: PEM private key path (PKCS#8,
unencrypted), sha256: SHA-256 of the DER certificate, 64 lowercase hex digits."""

_CA_CNF = """\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = {db}
database = {db}/index.txt
new_certs_dir = {db}
serial = {db}/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,{key_usage}
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:{host}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
"""

VALID_FROM_AGO = 86400           # not-before: a day ago (clock skew of the device)
VALID_FOR = 2 * 365 * 86400      # two years


def _run(argv):
    r = subprocess.run(argv, capture_output=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} {argv[1]} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout


def _genkey(path, key):
    if key == "ec":
        _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-pkeyopt", "ec_param_enc:named_curve", "-out", path])
    elif key == "rsa":
        _run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path])
    else:
        raise ValueError(f"key must be 'ec' or 'rsa', not {key!r}")


def _sign(dir, csr, out, ext, host="", key_usage="digitalSignature", ca=None, selfsign_key=None):
    """Sign csr with `openssl ca` (the only 3.0 CLI that takes a start date)."""
    db = tempfile.mkdtemp(prefix="ca-db-", dir=dir)
    open(os.path.join(db, "index.txt"), "w").close()
    cnf = os.path.join(db, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(_CA_CNF.format(db=db, host=host, key_usage=key_usage))
    now = time.time()
    start = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(now - VALID_FROM_AGO))
    end = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(now - VALID_FROM_AGO + VALID_FOR))
    argv = ["openssl", "ca", "-batch", "-config", cnf, "-in", csr, "-out", out, "-extensions", ext,
            "-startdate", start, "-enddate", end, "-notext", "-rand_serial"]
    if selfsign_key:
        argv += ["-selfsign", "-keyfile", selfsign_key]
    else:
        argv += ["-cert", ca.cert, "-keyfile", ca.key]
    _run(argv)


def _safe(name):
    return re.sub(r"[^A-Za-z0-9.-]+", "_", name)


def make_ca(dir, cn, key="ec"):
    """A self-signed test CA named CN=cn in dir.  Returns Cert(cert, key, sha256)."""
    base = os.path.join(dir, "ca-" + _safe(cn))
    _genkey(base + ".key", key)
    _run(["openssl", "req", "-new", "-key", base + ".key", "-subj", f"/CN={cn}", "-out", base + ".csr"])
    _sign(dir, base + ".csr", base + ".pem", "v3_ca", selfsign_key=base + ".key")
    return Cert(base + ".pem", base + ".key", fingerprint(base + ".pem"))


def make_cert(dir, ca, hostname, key="ec"):
    """A server certificate CN=hostname, subjectAltName DNS:hostname, signed by
    ca (a Cert from make_ca).  key: "ec" (ECDSA P-256, default) or "rsa" (2048).
    Returns Cert(cert, key, sha256); cert holds the leaf only (no chain)."""
    base = os.path.join(dir, f"{_safe(hostname)}-{key}-{_safe(os.path.basename(ca.cert))[:-4]}")
    _genkey(base + ".key", key)
    _run(["openssl", "req", "-new", "-key", base + ".key", "-subj", f"/CN={hostname}", "-out", base + ".csr"])
    usage = "digitalSignature" if key == "ec" else "digitalSignature,keyEncipherment"
    _sign(dir, base + ".csr", base + ".pem", "v3_leaf", host=hostname, key_usage=usage, ca=ca)
    return Cert(base + ".pem", base + ".key", fingerprint(base + ".pem"))


def fingerprint(pem_path):
    """SHA-256 (lowercase hex) of the DER form of the first certificate in a PEM file."""
    with open(pem_path) as f:
        return der_fingerprint(ssl.PEM_cert_to_DER_cert(f.read()))


def der_fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def der_text(der):
    """openssl's view of a DER certificate: subject, subjectAltName, notAfter."""
    r = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject", "-enddate",
                        "-ext", "subjectAltName"], input=der, capture_output=True, timeout=30)
    return r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def server_context(certfile, keyfile):
    """A TLS server context as a peer MTA would use it (no client certificates)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


def client_context(cafile=None):
    """cafile None: encrypt only, no verification.  Else verify chain and name."""
    if cafile is None:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=cafile)


# ---------------------------------------------------------------------------
# TlsAuthPeer: aiosmtpd with STARTTLS and AUTH

Received = collections.namedtuple("Received", "mail_from rcpt_tos content tls tls_version authenticated "
                                              "auth_user helo peer")


# aiosmtpd 1.4 itself sets the deprecated Session.login_data on every AUTH and
# logs a warning about it each time: drop just that line.
logging.getLogger("mail.log").addFilter(lambda r: "login_data is deprecated" not in r.getMessage())


class _Recorder:
    """aiosmtpd handler + authenticator: records messages and AUTH attempts."""

    def __init__(self, users):
        self.users = dict(users)
        self.cond = threading.Condition()
        self.messages = []
        # (mechanism, user, ok).  Never name a handler attribute auth_*: aiosmtpd
        # would advertise it as an AUTH mechanism.
        self.logins = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        ok = user in self.users and self.users[user] == auth_data.password.decode("utf-8", "replace")
        with self.cond:
            self.logins.append((mechanism, user, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_DATA(self, server, session, envelope):
        tls = session.ssl is not None
        version = None
        if tls:
            obj = session.ssl.get("ssl_object")
            version = obj.version() if obj is not None else None
        user = None
        if session.authenticated and session.auth_data is not None:
            user = session.auth_data.login.decode("utf-8", "replace")
        rec = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content), tls, version,
                       bool(session.authenticated), user, session.host_name, session.peer)
        with self.cond:
            self.messages.append(rec)
            self.cond.notify_all()
        return "250 2.0.0 Ok: queued"


class TlsAuthPeer:
    """A peer MTA on 127.0.0.1:port that offers STARTTLS (with certfile/keyfile)
    and AUTH PLAIN/LOGIN for `users` after STARTTLS.
      require_tls:  commands other than EHLO/NOOP/STARTTLS/QUIT before TLS get 530
      require_auth: MAIL before a successful AUTH gets 530 5.7.0
    .messages: [Received] in arrival order; .auth_attempts: [(mech, user, ok)]."""

    def __init__(self, port, certfile, keyfile, users=None, require_tls=True, require_auth=True,
                 hostname="mail.peer.test"):
        self.port = port
        self.rec = _Recorder({"relay": "secret"} if users is None else users)
        self.controller = Controller(
            self.rec, hostname="127.0.0.1", port=port, server_hostname=hostname,
            tls_context=server_context(certfile, keyfile), require_starttls=require_tls,
            auth_required=require_auth, auth_require_tls=True, authenticator=self.rec.authenticate,
            timeout=60)
        self.controller.start()

    @property
    def messages(self):
        with self.rec.cond:
            return list(self.rec.messages)

    @property
    def auth_attempts(self):
        with self.rec.cond:
            return list(self.rec.logins)

    def wait_count(self, n, timeout):
        """Wait until n messages arrived (bounded); return the count."""
        deadline = time.monotonic() + timeout
        with self.rec.cond:
            while len(self.rec.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.rec.cond.wait(min(left, 0.5))
            return len(self.rec.messages)

    def stop(self):
        if self.controller._thread is not None:
            self.controller.stop()


# ---------------------------------------------------------------------------
# line/reply reading shared by the scripted server and client

class SmtpLines:
    """CRLF lines from a socket (plain or TLS) with our own buffer, so that the
    caller decides what happens to bytes that arrived before a TLS switch."""

    MAX_LINE = 8192

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def available(self, wait):
        """Is input waiting (buffered, inside TLS, or on the socket within `wait` s)?"""
        if self.buf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no complete line in time")
        self.sock.settimeout(left)
        chunk = self.sock.recv(16384)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def readline(self, timeout=30.0):
        """One line including its CRLF (or LF); raises on timeout/EOF/too long."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if len(self.buf) > self.MAX_LINE:
                raise ValueError("line too long")
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def reply(self, timeout=30.0):
        """One SMTP reply as a list of lines (str, no CRLF); bounded to 100 lines."""
        lines = []
        for _ in range(100):
            line = self.readline(timeout).rstrip(b"\r\n").decode("latin-1")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines
        raise ValueError("reply of more than 100 lines")

    def replies(self, settle=1.0, first_timeout=30.0, max_time=60.0):
        """Every reply that arrives: wait up to first_timeout for the first one,
        then keep reading until nothing came for `settle` s (at most max_time)."""
        out = []
        end = time.monotonic() + max_time
        wait = first_timeout
        while time.monotonic() < end and len(out) < 100:
            if not self.available(min(wait, max(0.0, end - time.monotonic()))):
                break
            try:
                out.append(self.reply(timeout=max(settle, 5.0)))
            except (socket.timeout, ConnectionError, ssl.SSLError, OSError):
                if self.buf:
                    out.append([self.buf.decode("latin-1")])
                    self.buf = b""
                break
            wait = settle
        return out

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line, timeout=30.0):
        """Send one command line (str, no CRLF) and return its reply (list of lines)."""
        self.send(line.encode() + b"\r\n")
        return self.reply(timeout)


def smtp_connect(host, port, helo="client.lan.test", timeout=30.0):
    """Plaintext SMTP session after greeting and EHLO: an SmtpLines with
    .greeting and .ehlo (reply line lists)."""
    s = socket.create_connection((host, port), timeout=timeout)
    io = SmtpLines(s)
    try:
        io.greeting = io.reply(timeout)
        io.ehlo = io.cmd(f"EHLO {helo}", timeout)
    except BaseException:
        s.close()
        raise
    return io


def starttls(io, context=None, server_hostname=None, helo="client.lan.test", timeout=30.0):
    """STARTTLS on a plaintext session.  Returns (reply, tls_io): tls_io is None
    unless the reply was 220; else a new SmtpLines on the TLS socket with
    .ehlo (the post-TLS EHLO reply) and .cert_der (the server's certificate).
    context None: encrypt without verification."""
    reply = io.cmd("STARTTLS", timeout)
    if not reply[0].startswith("220"):
        return reply, None
    io.buf = b""                       # plaintext behind the 220 is never used
    t = (context or client_context()).wrap_socket(io.sock, server_hostname=server_hostname)
    io.sock = t                        # so that io.sock.close() closes the TLS socket too
    tio = SmtpLines(t)
    tio.cert_der = t.getpeercert(binary_form=True)
    tio.ehlo = tio.cmd(f"EHLO {helo}", timeout)
    return reply, tio


def send_message(io, frm, rcpts, content, timeout=60.0):
    """MAIL/RCPT/DATA/content on an open session, one command at a time.
    content: bytes with CRLF line ends.  Returns the replies (list of reply lists)."""
    out = [io.cmd(f"MAIL FROM:<{frm}>", timeout)]
    for r in rcpts:
        out.append(io.cmd(f"RCPT TO:<{r}>", timeout))
    out.append(io.cmd("DATA", timeout))
    if out[-1][0].startswith("354"):
        body = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in content.split(b"\r\n"))
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        io.send(body + b".\r\n")
        out.append(io.reply(timeout))
    return out


# ---------------------------------------------------------------------------
# InjectPeer: server-side STARTTLS response injection

class InjectSession:
    """What one client connection did at an InjectPeer."""

    def __init__(self, peer):
        self.peer = peer
        self.pre_tls = []        # command lines before STARTTLS (str, no CRLF)
        self.post_tls = []       # command lines after the TLS handshake
        self.pipelined_after_starttls = b""   # client bytes behind its STARTTLS (discarded)
        self.tls_version = None
        self.desync = []         # what showed the client did not wait for our reply
        self.errors = []         # handshake failures, timeouts, protocol errors

    def post_tls_verbs(self):
        return [l.split(" ", 1)[0].split(":", 1)[0].upper() for l in self.post_tls]

    def __repr__(self):
        return (f"InjectSession(pre={self.pre_tls}, post={self.post_tls}, tls={self.tls_version}, "
                f"desync={self.desync}, errors={self.errors})")


class InjectPeer:
    """Scripted peer MTA on 127.0.0.1:port.  Before TLS: 220 greeting, EHLO gets
    250-PIPELINING/250-STARTTLS/250 8BITMIME, STARTTLS gets
    b"220 2.0.0 go ahead\\r\\n" + inject in ONE send(), then the server side of
    TLS and a normal dialogue (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).

    A client that took the injected line as the reply to its post-TLS EHLO
    sends MAIL before our real EHLO reply: after a post-TLS EHLO we wait
    ehlo_delay s and record in session.desync anything that arrives meanwhile
    (RFC 2920: EHLO ends a pipelined group).  Likewise for message content
    sent before our 354.  .messages: [(mail_from_line, [rcpt lines], data)]."""

    def __init__(self, port, certfile, keyfile, inject=b"250 injected\r\n", hostname="mail.peer.test",
                 ehlo_delay=0.5, max_sessions=50):
        self.port = port
        self.inject = inject
        self.hostname = hostname
        self.ehlo_delay = ehlo_delay
        self.ctx = server_context(certfile, keyfile)
        self.cond = threading.Condition()
        self.messages = []
        self.sessions = []
        self.max_sessions = max_sessions
        self.stopping = threading.Event()
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(8)
        self.lsock.settimeout(0.2)
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while not self.stopping.is_set() and len(self.threads) < self.max_sessions:
            try:
                conn, addr = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn, addr), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn, addr):
        sess = InjectSession(addr)
        with self.cond:
            self.sessions.append(sess)
        try:
            self._dialogue(conn, sess)
        except (OSError, ValueError, ssl.SSLError) as e:
            sess.errors.append(f"{type(e).__name__}: {e}")
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self.cond:
                self.cond.notify_all()

    def _dialogue(self, conn, sess):
        io = SmtpLines(conn)
        io.send(f"220 {self.hostname} ESMTP inject-peer\r\n".encode())
        for _ in range(50):                                   # before TLS
            line = io.readline(30).rstrip(b"\r\n").decode("latin-1")
            sess.pre_tls.append(line)
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                io.send(f"250-{self.hostname}\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n".encode())
            elif verb == "STARTTLS":
                sess.pipelined_after_starttls, io.buf = io.buf, b""  # never honoured
                data = b"220 2.0.0 go ahead\r\n" + self.inject
                if conn.send(data) != len(data):               # one send(), one segment on loopback
                    raise OSError("short send of the STARTTLS reply")
                break
            elif verb == "NOOP":
                io.send(b"250 2.0.0 ok\r\n")
            elif verb == "QUIT":
                io.send(b"221 2.0.0 bye\r\n")
                return
            else:
                io.send(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
        else:
            return
        conn.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError) as e:
            sess.errors.append(f"TLS handshake: {e}")
            return
        sess.tls_version = tls.version()
        io = SmtpLines(tls)
        mail, rcpts = None, []
        for _ in range(200):                                  # after TLS
            line = io.readline(30).rstrip(b"\r\n").decode("latin-1")
            sess.post_tls.append(line)
            verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
            if len(sess.post_tls) == 1 and verb != "EHLO":
                sess.desync.append(f"first command after TLS is {line!r}, not EHLO")
            if verb == "EHLO":
                if io.available(self.ehlo_delay):
                    sess.desync.append(f"client sent {io.buf or b'data'!r}... before our EHLO reply")
                io.send(f"250-{self.hostname}\r\n250-PIPELINING\r\n250 8BITMIME\r\n".encode())
                mail, rcpts = None, []
            elif verb == "MAIL":
                mail, rcpts = line, []
                io.send(b"250 2.1.0 ok\r\n")
            elif verb == "RCPT":
                rcpts.append(line)
                io.send(b"250 2.1.5 ok\r\n")
            elif verb == "DATA":
                if mail is None or not rcpts:
                    io.send(b"503 5.5.1 need MAIL and RCPT\r\n")
                    continue
                if io.available(0.2):
                    sess.desync.append("message content before our 354")
                io.send(b"354 go ahead\r\n")
                data = self._read_data(io)
                with self.cond:
                    self.messages.append((mail, rcpts, data))
                    self.cond.notify_all()
                io.send(b"250 2.0.0 queued\r\n")
                mail, rcpts = None, []
            elif verb in ("RSET", "NOOP"):
                if verb == "RSET":
                    mail, rcpts = None, []
                io.send(b"250 2.0.0 ok\r\n")
            elif verb == "QUIT":
                io.send(b"221 2.0.0 bye\r\n")
                return
            else:
                io.send(b"502 5.5.2 not here\r\n")

    @staticmethod
    def _read_data(io, limit=10 * 1024 * 1024):
        out = []
        size = 0
        while size <= limit:
            line = io.readline(60)
            if line == b".\r\n":
                return b"".join(out)
            if line.startswith(b"."):
                line = line[1:]
            out.append(line)
            size += len(line)
        raise ValueError("message too big")

    def wait_count(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.5))
            return len(self.messages)

    def tls_sessions(self):
        with self.cond:
            return [s for s in self.sessions if s.tls_version]

    def stop(self):
        self.stopping.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        self.acceptor.join(5)
        for t in self.threads:
            t.join(5)


# ---------------------------------------------------------------------------
# inject_starttls: client-side STARTTLS command injection

class InjectResult:
    """Replies seen by inject_starttls; each reply is a list of lines (str).
      greeting, ehlo:   the plaintext greeting and EHLO replies
      starttls:         every plaintext reply after "STARTTLS\\r\\nMAIL ..." (want exactly one 220)
      tls_error:        None, or why the handshake failed
      tls_ehlo, mail:   replies after the post-TLS EHLO and `MAIL FROM:<a@b>`
      late:             anything that came after that
      cert_der:         the server's certificate (DER)"""

    def __init__(self):
        self.greeting = self.ehlo = None
        self.starttls, self.tls_ehlo, self.mail, self.late = [], [], [], []
        self.tls_error = None
        self.cert_der = None

    def problems(self):
        """[] when the server discarded the injected MAIL; else what went wrong."""
        p = []
        if len(self.starttls) != 1 or len(self.starttls[0]) != 1 or not self.starttls[0][0].startswith("220"):
            p.append(f"plaintext replies to STARTTLS+MAIL: {self.starttls} (want one 220 line)")
        if self.tls_error:
            p.append(f"TLS handshake failed: {self.tls_error}")
            return p
        if len(self.tls_ehlo) != 1 or not self.tls_ehlo[0][-1].startswith("250 "):
            p.append(f"replies to post-TLS EHLO: {self.tls_ehlo} (want one 250 reply)")
        if len(self.mail) != 1 or not self.mail[0][0].startswith("250"):
            p.append(f"replies to post-TLS MAIL: {self.mail} (want one 250)")
        if self.late:
            p.append(f"late replies: {self.late}")
        return p

    def __repr__(self):
        return (f"InjectResult(greeting={self.greeting}, ehlo={self.ehlo}, starttls={self.starttls}, "
                f"tls_error={self.tls_error}, tls_ehlo={self.tls_ehlo}, mail={self.mail}, late={self.late})")


def inject_starttls(host, port, helo="inject.lan.test", settle=1.5, timeout=30.0):
    """Connect in plaintext, EHLO, then send b"STARTTLS\\r\\nMAIL FROM:<evil@x>\\r\\n"
    in ONE send(); collect the plaintext replies (settle s of quiet), do the
    TLS handshake (no verification), EHLO, `MAIL FROM:<a@b>`, collect replies,
    QUIT.  A correct server answers exactly one 220 before TLS and 250 to the
    post-TLS MAIL (an honoured injected MAIL would make it 503).  Returns an
    InjectResult; .problems() lists deviations."""
    res = InjectResult()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        io = SmtpLines(s)
        res.greeting = io.reply(timeout)
        io.send(f"EHLO {helo}\r\n".encode())
        res.ehlo = io.reply(timeout)
        s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@x>\r\n")        # one send()
        res.starttls = io.replies(settle=settle, first_timeout=timeout)
        leftover, io.buf = io.buf, b""
        if leftover:
            res.starttls.append([leftover.decode("latin-1")])
        try:
            s.settimeout(timeout)
            t = client_context().wrap_socket(s, server_hostname=None)
        except (ssl.SSLError, OSError) as e:
            res.tls_error = f"{type(e).__name__}: {e}"
            return res
        s = t
        res.cert_der = t.getpeercert(binary_form=True)
        io = SmtpLines(t)
        io.send(f"EHLO {helo}\r\n".encode())
        res.tls_ehlo = io.replies(settle=settle, first_timeout=timeout)
        io.send(b"MAIL FROM:<a@b>\r\n")
        res.mail = io.replies(settle=settle, first_timeout=timeout)
        try:
            io.send(b"QUIT\r\n")
            after = io.replies(settle=0.5, first_timeout=5)
            res.late = [r for r in after if not r[0].startswith("221")]
        except (OSError, ssl.SSLError):
            pass
        return res
    finally:
        try:
            s.close()
        except OSError:
            pass


def auth_plain(user, password):
    """The initial response of AUTH PLAIN (RFC 4616), base64."""
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
