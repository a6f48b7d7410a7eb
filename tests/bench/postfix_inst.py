"""A private Postfix instance for the benchmark: its own config_directory and
queue_directory under a temporary directory, started with `postfix -c DIR
start` inside the benchmark's network namespace and stopped with `postfix -c
DIR stop` (then, if needed, SIGKILL to the master's process group).

Relay-only: mydestination is empty, every recipient goes to relayhost
[SINK_IP]:SINK_PORT, no local delivery, no chroot, no DNS, no TLS.  The queue
lives on the same disk as the repository (not tmpfs), so Postfix's fsync()
of each queue file before it answers 250 costs what it costs on this machine.
"""
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
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = $myhostname
inet_interfaces = {ip}
inet_protocols = ipv4
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in the benchmark
alias_maps =
alias_database =
relayhost = [{sink_ip}]:{sink_port}
mynetworks = {mynetworks}
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_tls_security_level = none
smtp_tls_security_level = none
default_process_limit = {proclimit}
biff = no
append_dot_mydomain = no
readme_directory = no
"""


class PostfixInstance:
    def __init__(self, netns, ip, port, sink_ip, sink_port, mynetworks, proclimit, base_dir=None):
        self.netns = netns
        self.base = tempfile.mkdtemp(prefix="postfix-bench-", dir=base_dir)
        self.conf = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "spool")
        self.data = os.path.join(self.base, "lib")
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d)
        os.chmod(self.base, 0o755)
        shutil.chown(self.data, "postfix", "postfix")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(queue=self.queue, data=self.data, base=self.base, ip=ip,
                                   sink_ip=sink_ip, sink_port=sink_port, mynetworks=mynetworks,
                                   proclimit=proclimit))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"{ip}:{port}"))
        self.master_pid = None

    def _postfix(self, *args, timeout=60):
        argv = ["ip", "netns", "exec", self.netns, "postfix", "-c", self.conf] + list(args)
        return subprocess.run(argv, capture_output=True, timeout=timeout, text=True)

    def start(self):
        # creates the queue's subdirectories with the right owners, then starts master
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

    def log_tail(self, n=4000):
        try:
            with open(os.path.join(self.base, "maillog"), errors="replace") as f:
                return "\n" + f.read()[-n:]
        except OSError:
            return ""

    def log_count(self, needle):
        try:
            with open(os.path.join(self.base, "maillog"), errors="replace") as f:
                return sum(1 for line in f if needle in line)
        except OSError:
            return 0

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
