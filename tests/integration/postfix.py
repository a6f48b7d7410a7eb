"""Private Postfix instances for the tests: real mail software on either side
of the device.

Each instance has its own config_directory, queue and log under a directory
the test owns (pytest's tmp_path), listens on one loopback (or namespace)
address and port, and is started with `postfix -c DIR start` and stopped with
`postfix -c DIR stop` (then SIGKILL to the master's own process group, the
only processes it started).

- `PostfixInstance.relay(...)`: an MTA that relays everything to relayhost
  [IP]:PORT: a LAN host's Postfix in front of the device (submit with
  `sendmail()`, or SMTP), or a smarthost behind it that hands mail on to an
  smtp-sink; an access map (`set_access()`) rejects or defers chosen
  recipients.  The benchmark's Postfix is one too, in its namespace.
- `PostfixInstance.mailbox(...)`: a smarthost that accepts mail for one
  domain into one Maildir the test reads (`maildir_messages()`).

No DNS, no chroot, no local delivery, no TLS unless asked.  Retries are
seconds apart (a test waits on a deferral, not 5 minutes); Postfix offers
DSN (RFC 3461) on both sides.
"""
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
myhostname = {hostname}
mydomain = test
myorigin = $myhostname
inet_interfaces = {ip}
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the tests
alias_maps =
alias_database =
mynetworks = {mynetworks}
default_process_limit = {proclimit}
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_tls_security_level = none
smtp_tls_security_level = none
# what the test sends is what arrives: no header rewriting of any client
local_header_rewrite_clients =
biff = no
append_dot_mydomain = no
readme_directory = no
"""


def _let_postfix_in(path):
    """Postfix's daemons run as the postfix user and must reach the instance
    directory: give o+x to each directory from the temp root down to path
    (pytest makes its own 0700)."""
    tmp = os.path.realpath(tempfile.gettempdir())
    p = os.path.realpath(path)
    while p.startswith(tmp + os.sep):
        mode = os.stat(p).st_mode
        if not mode & 0o001:
            os.chmod(p, (mode & 0o7777) | 0o055)
        p = os.path.dirname(p)


class PostfixInstance:
    """base: the instance's directory (a test's tmp_path); None: a temporary
    one that cleanup() removes."""

    def __init__(self, base, ip, port, hostname, extra_main="", netns=None,
                 mynetworks="127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16", proclimit=100,
                 access=None):
        self.netns = netns
        self.own_base = base is None
        self.base = tempfile.mkdtemp(prefix="postfix-") if base is None else str(base)
        self.ip, self.port = ip, port
        self.conf = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "lib")
        self.maildir = os.path.join(self.base, "mail", "Maildir")
        self.access = os.path.join(self.conf, "access")
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        _let_postfix_in(self.base)
        shutil.chown(self.data, "postfix", "postfix")
        restrictions = "permit_mynetworks, reject"
        if access is not None:
            self._write_access(access)
            restrictions = f"check_recipient_access texthash:{self.access}, " + restrictions
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(queue=self.queue, data=self.data, base=self.base, ip=ip,
                                   hostname=hostname, mynetworks=mynetworks, proclimit=proclimit)
                    + f"smtpd_relay_restrictions = {restrictions}\n"
                    + f"smtpd_recipient_restrictions = {restrictions}\n" + extra_main)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"{ip}:{port}"))
        self.master_pid = None

    @classmethod
    def relay(cls, base, ip, port, relayhost, relayport, hostname="postfix-client.lan.test", **kw):
        """Relays everything it accepts to [relayhost]:relayport.  kw: access
        (recipient -> access(5) action such as "550 5.1.1 no such user"),
        extra_main, netns, mynetworks, proclimit."""
        extra = f"relayhost = [{relayhost}]:{relayport}\n" + kw.pop("extra_main", "")
        return cls(base, ip, port, hostname, extra, **kw)

    @classmethod
    def mailbox(cls, base, ip, port, domain, **kw):
        """Mail for `domain` goes into one Maildir (maildir_messages())."""
        uid = int(subprocess.run(["id", "-u", "postfix"], capture_output=True, text=True).stdout)
        gid = int(subprocess.run(["id", "-g", "postfix"], capture_output=True, text=True).stdout)
        mail = os.path.join(str(base), "mail")
        extra = (f"virtual_mailbox_domains = {domain}\n"
                 f"virtual_mailbox_base = {mail}\n"
                 "virtual_mailbox_maps = static:Maildir/\n"
                 f"virtual_uid_maps = static:{uid}\nvirtual_gid_maps = static:{gid}\n"
                 "virtual_minimum_uid = 1\n"
                 "virtual_mailbox_limit = 0\nmessage_size_limit = 0\n") + kw.pop("extra_main", "")
        inst = cls(base, ip, port, "smarthost.dest.test", extra, **kw)
        os.makedirs(mail, exist_ok=True)
        shutil.chown(mail, uid, gid)
        return inst

    def _write_access(self, access):
        with open(self.access, "w") as f:
            for addr, action in access.items():
                f.write(f"{addr} {action}\n")

    def set_access(self, access):
        """Replace the recipient table; reload, so new smtpd processes read it."""
        self._write_access(access)
        r = self._postfix("reload")
        if r.returncode != 0:
            raise RuntimeError(f"postfix reload failed: {r.stdout}{r.stderr}")

    def sendmail(self, args, message, timeout=30):
        """Submit through this instance's sendmail(1) (pickup -> qmgr -> relayhost)."""
        argv = ["sendmail", "-C", self.conf] + list(args)
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        return subprocess.run(argv, input=message, capture_output=True, timeout=timeout)

    def _postfix(self, *args, timeout=60):
        argv = ["postfix", "-c", self.conf] + list(args)
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        return subprocess.run(argv, capture_output=True, timeout=timeout, text=True)

    def start(self):
        r = self._postfix("start")
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stdout}{r.stderr}{self.log_tail()}")
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with open(pidfile) as f:
                    pid = int(f.read().split()[0])
                os.kill(pid, 0)
                self.master_pid = pid
                break
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        if not self.master_pid:
            raise RuntimeError("postfix master did not start" + self.log_tail())
        return self

    def queue_count(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def flush(self):
        """Ask the queue manager to retry deferred mail now (`postqueue -f`)."""
        argv = ["postqueue", "-c", self.conf, "-f"]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        subprocess.run(argv, capture_output=True, timeout=30)

    def maildir_messages(self):
        """Delivered messages as bytes, in delivery order."""
        files = glob.glob(os.path.join(self.maildir, "new", "*")) + \
            glob.glob(os.path.join(self.maildir, "cur", "*"))
        files.sort(key=lambda p: (os.stat(p).st_mtime_ns, p))
        out = []
        for p in files:
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_log(self, needle, timeout):
        """True once `needle` is in the log (bounded wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return True
            time.sleep(0.2)
        return False

    def log_text(self):
        try:
            with open(os.path.join(self.base, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    log = log_text

    def log_tail(self, n=4000):
        return "\n" + self.log_text()[-n:]

    def log_count(self, needle):
        return sum(1 for line in self.log_text().splitlines() if needle in line)

    def stop(self):
        if not self.master_pid:
            return
        try:
            self._postfix("stop", timeout=30)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.master_pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        else:
            try:  # master calls setsid(): its process group holds all its children
                os.killpg(self.master_pid, signal.SIGKILL)
            except OSError:
                pass
        self.master_pid = None


    def cleanup(self):
        self.stop()
        if self.own_base:
            shutil.rmtree(self.base, ignore_errors=True)

def strip_trace(msg):
    """A delivered message without the trace fields the path added at its top
    (Return-Path, Delivered-To, Received), with LF line ends as in a Maildir."""
    lines = msg.split(b"\n")
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith((b"Return-Path:", b"Delivered-To:", b"X-Original-To:", b"Received:")):
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            continue
        break
    return b"\n".join(lines[i:])
