"""A private Postfix instance as a test peer (issue 14): its own
config_directory and queue_directory under a temporary directory, started
with `postfix -c DIR start` on 127.0.0.1:PORT (no network namespace: QEMU's
guestfwd reaches it through socat) and stopped with `postfix -c DIR stop`.

Two roles:
- smarthost: check_recipient_access answers chosen recipients with a fixed
  reply ("550 5.1.1 ...", "450 4.7.1 ..."); the others are accepted and
  relayed to relayhost [127.0.0.1]:RELAY_PORT (an smtp-sink).  set_access()
  changes the table and reloads, so a deferral can end.
- client: relayhost is the device; `sendmail` with `-N` submits through it.

Postfix offers DSN (RFC 3461) on both sides, which is what the tests need.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

MASTER_CF = """\
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
mydomain = test.invalid
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery here
alias_maps =
alias_database =
relayhost = [127.0.0.1]:{relay_port}
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = check_recipient_access texthash:{access}, permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
smtp_tls_security_level = none
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
biff = no
append_dot_mydomain = no
readme_directory = no
"""


class PostfixPeer:
    def __init__(self, port, relay_port, access=None, hostname="postfix.peer.test"):
        self.base = tempfile.mkdtemp(prefix="postfix-peer-")
        self.conf = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "lib")
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d)
        os.chmod(self.base, 0o755)
        shutil.chown(self.data, "postfix", "postfix")
        self.access = os.path.join(self.conf, "access")
        self._write_access(access or {})
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(queue=self.queue, data=self.data, base=self.base, hostname=hostname,
                                   relay_port=relay_port, access=self.access))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"127.0.0.1:{port}"))
        self.master_pid = None

    def _write_access(self, access):
        with open(self.access, "w") as f:
            for k, v in access.items():
                f.write(f"{k} {v}\n")

    def _postfix(self, *args, timeout=60):
        return subprocess.run(["postfix", "-c", self.conf] + list(args), capture_output=True,
                              timeout=timeout, text=True)

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

    def set_access(self, access):
        """Replace the recipient table; reload so new smtpd processes read it."""
        self._write_access(access)
        r = self._postfix("reload")
        if r.returncode != 0:
            raise RuntimeError(f"postfix reload failed: {r.stdout}{r.stderr}")

    def sendmail(self, args, message, timeout=30):
        """Submit through this instance's sendmail(1) (pickup -> qmgr -> relayhost)."""
        return subprocess.run(["sendmail", "-C", self.conf] + list(args), input=message,
                              capture_output=True, timeout=timeout)

    def flush(self):
        self._postfix("flush")

    def log(self):
        try:
            with open(os.path.join(self.base, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=4000):
        return "\n" + self.log()[-n:]

    def wait_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.2)
        return False

    def stop(self):
        if self.master_pid:
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
        shutil.rmtree(self.base, ignore_errors=True)
