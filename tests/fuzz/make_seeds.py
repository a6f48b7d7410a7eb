#!/usr/bin/python3
"""Write the seed corpora of tests/fuzz/corpus/<target>/ (small, readable
inputs that reach every part of each harness) and the regression inputs of
issue 17 (tests/fuzz/crash/<target>/: each failed before its fix).

Run from the top of the tree: /usr/bin/python3 tests/fuzz/make_seeds.py"""
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)))


def put(kind, target, name, data):
    d = os.path.join(ROOT, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def s8(b):  # fz_str: length byte, bytes
    return bytes([len(b)]) + b


def u16(v):
    return struct.pack('<H', v)


def u32(v):
    return struct.pack('<I', v)


def crc(b):
    return zlib.crc32(b) & 0xFFFFFFFF


# ---- smtpd: cfg, split seed, client bytes
C = b'\r\n'
ehlo = b'EHLO client.example' + C
txn = (b'MAIL FROM:<alice@example.com> SIZE=100' + C + b'RCPT TO:<bob@example.org>' + C +
       b'RCPT TO:<Postmaster>' + C + b'DATA' + C + b'Subject: hi' + C + C + b'..dot' + C + b'.' + C)
put('corpus', 'smtpd', 'plain', bytes([0x04, 7]) + ehlo + txn + b'QUIT' + C)
put('corpus', 'smtpd', 'pipelined', bytes([0x05, 3]) + ehlo + txn + txn + b'RSET' + C + b'NOOP' + C)
put('corpus', 'smtpd', 'starttls-auth', bytes([0x19, 9]) + ehlo + b'STARTTLS' + C + b'INJECTED' + C +
    ehlo + b'AUTH PLAIN AGFsaWNlAHNlY3JldA==' + C + txn)
put('corpus', 'smtpd', 'auth-login-fail', bytes([0x19, 1]) + ehlo + b'STARTTLS' + C + ehlo +
    b'AUTH LOGIN' + C + b'YWxpY2U=' + C + b'd3Jvbmc=' + C + b'AUTH PLAIN AGFsaWNlAHNlY3JldA==' + C + txn)
put('corpus', 'smtpd', 'smuggle', bytes([0x04, 5]) + ehlo + txn[:-3] + b'\n.\n' + b'MAIL FROM:<evil@x>' + C +
    b'\r\n.\r\n' + b'HELO x' + C + b'VRFY a' + C + b'BDAT 1' + C)
put('corpus', 'smtpd', 'queue-fails', bytes([0x44, 2]) + ehlo + txn + bytes([0x64]))
put('corpus', 'smtpd', 'long', bytes([0xA4, 11]) + ehlo + b'MAIL FROM:<' + b'a' * 600 + b'>' + C + txn +
    b'DATA' + C + b'x' * 1200 + C + b'.' + C)

# ---- smtpc: cfg, split seed, server bytes
ehlo_r = (b'220 mx.example ESMTP' + C + b'250-mx.example' + C + b'250-PIPELINING' + C + b'250-SIZE 100000' + C +
          b'250-8BITMIME' + C + b'250-ENHANCEDSTATUSCODES' + C + b'250-STARTTLS' + C +
          b'250 AUTH PLAIN LOGIN' + C)
ok = b'250 2.1.0 ok' + C
put('corpus', 'smtpc', 'pipelined', bytes([0x00, 5]) + ehlo_r + ok + b'250 2.1.5 ok' + C + ok + b'550 5.1.1 no' + C +
    b'354 go' + C + b'250 2.0.0 queued' + C + b'221 bye' + C)
put('corpus', 'smtpc', 'starttls-auth', bytes([0x09, 3]) + ehlo_r + b'220 2.0.0 go' + C + b'250 INJECTED' + C +
    ehlo_r[len(b'220 mx.example ESMTP\r\n'):] + b'235 2.7.0 ok' + C + ok * 3 + b'354 go' + C + b'250 ok' + C)
put('corpus', 'smtpc', 'helo-login', bytes([0x1A, 7]) + b'220 old' + C + b'502 no' + C + b'250 hi' + C +
    b'334 VXNlcm5hbWU6' + C + b'334 UGFzc3dvcmQ6' + C + b'235 ok' + C + ok + b'451 later' + C)
put('corpus', 'smtpc', 'two-jobs', bytes([0x04, 2]) + ehlo_r + ok * 4 + b'354 go' + C + b'250 ok' + C +
    ok * 4 + b'354 go' + C + b'421 closing' + C)
put('corpus', 'smtpc', 'garbage', bytes([0x00, 1]) + b'220-a' + C + b'220 b' + C + b'250-x' + C + b'999 bad' + C)

# ---- smtpd_cmd: one line
for i, l in enumerate([b'MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME AUTH=<>',
                       b'mail from: <@r1,@r2:"quoted local"@[1.2.3.4]>',
                       b'RCPT TO:<Postmaster>', b'RCPT TO:<user@[IPv6:2001:db8::1]> NOTIFY=NEVER',
                       b'EHLO host_name.example extra', b'AUTH PLAIN AGFsaWNlAHNlY3JldA==',
                       b'AUTH login', b'DATA', b'quit ', b'xyzzy', b'a@' + b'b.' * 130 + b'c']):
    put('corpus', 'smtpd_cmd', 'line%02d' % i, l)

# ---- smtpc_reply: split seed, server bytes
put('corpus', 'smtpc_reply', 'ehlo', bytes([3]) + ehlo_r + b'250-SMTPUTF8' + C + b'250 CHUNKING' + C)
put('corpus', 'smtpc_reply', 'mixed', bytes([9]) + b'550 5.1.1 <x>: no' + C + b'421-4.4.2 a\n421 b' + C +
    b'250-x' + C + b'251 y' + C)
put('corpus', 'smtpc_reply', 'long', bytes([1]) + b'250 ' + b'y' * 600 + C)

# ---- smtp_data: room, max, bytes
put('corpus', 'smtp_data', 'clean', bytes([5, 1]) + b'Subject: a' + C + C + b'.dot' + C + b'..' + C + b'end')
put('corpus', 'smtp_data', 'terminator', bytes([1, 0]) + b'a' + C + b'.' + C + b'after')
put('corpus', 'smtp_data', 'smuggle', bytes([9, 1]) + b'a\n.\nb\r.\rc' + C + b'.\n' + C)
put('corpus', 'smtp_data', 'long', bytes([2, 3]) + b'.' + b'x' * 1005 + C + b'y')

# ---- dsn: cfg, host, sender, date, nr, per rcpt (addr, enh, text, flags, u32 last, u16 code), header
def rc(addr, enh, text, flags, last, code):
    return s8(addr) + s8(enh) + s8(text) + bytes([flags]) + u32(last) + u16(code)


hdr = b'From: a@b' + C + b'Subject: x' + C + b'--=_dsn_00000001_00000000_0' + C + C + b'body'
put('corpus', 'dsn', 'basic', bytes([0]) + s8(b'mx.example') + s8(b'alice@example.com') + s8(b'') + bytes([3]) +
    rc(b'bob@x', b'5.1.1', b'no such user', 2, 100, 550) + rc(b'c@x', b'4.4.7', b'', 3, 0, 0) +
    rc(b'd@x', b'', b'', 0, 0, 250) + hdr)
put('corpus', 'dsn', 'nasty', bytes([2]) + s8(b'h\r\nX: y') + s8(b'<\x01>') + s8(b'Mon, 1 Jan 2024\r\n') +
    bytes([2]) + rc(b'a' * 250, b'5.123.456', b'\x7f\x80 text', 2, 7, 554) + rc(b'b', b'x', b'y', 0x2a, 1, 1) +
    b'a\n' * 100 + b'h' * 1200)

# ---- sasl
for i, t in enumerate([b'AGFsaWNlAHNlY3JldA==', b'YWxpY2UAYWxpY2UAcHc=', b'=', b'YQ==', b'YWI=', b'Zm9v',
                       b'alice\x00secret']):
    put('corpus', 'sasl', 'in%02d' % i, t)

# ---- con: split seed, then lines (replay) / keystrokes (typed)
put('corpus', 'con', 'lines', bytes([3]) + b'show netif eth0\npeer add a 1.2.3.4 port 25\n# comment\n'
    b'sh me\nroute\nroute a b c\ninterface "quoted word" x\nbogus\nhelp\ninterfaces\npeer\n')
put('corpus', 'con', 'editing', bytes([7]) + b'sho\x7f\x7fow netif\r\npeer\x15route x\r\n\x03show\tmem\r\n'
    b'"unterminated\r\n' + b'w ' * 20 + b'\r\n')

# ---- store_flash: cfg (prog, image runs, counters), then operations
def msg(size, nr, cut=False):
    return bytes([0x80 if cut else 0x00]) + u16(size) + bytes([nr])


remount = bytes([0x04])
close_remount = bytes([0x0C])
ops = msg(300, 1) + msg(700, 2) + remount + msg(1200, 3) + bytes([0x02, 0]) + bytes([0x03, 0, 1, 1]) + remount
put('corpus', 'store_flash', 'ops', bytes([0x00]) + ops + msg(100, 1) + close_remount)
put('corpus', 'store_flash', 'cuts', bytes([0x01]) + msg(500, 2) + msg(900, 1, True) + bytes([5, 0x21]) +
    bytes([0x82, 0, 3, 0]) + bytes([0x83, 0, 0, 0, 9, 1]) + bytes([0x87, 4, 0x40, 2]) + msg(800, 3) + remount)
put('corpus', 'store_flash', 'plant', bytes([0x02]) + msg(200, 1) + bytes([0x05, 2, 0, 2, 1, 8]) + b'\0' * 8 +
    bytes([0x05, 8, 0, 0, 0]) + bytes([0x06, 1, 0]) + msg(300, 1) + remount + msg(400, 2) + remount)
# compaction: fill and delete in turn
fill = b''
for i in range(14):
    fill += msg(1100, 1) + bytes([0x02, 0])
put('corpus', 'store_flash', 'compact', bytes([0x00]) + msg(600, 2) + fill + remount)
# findings 1 and 2: counters 0xFFFFFFFF (seq and mid), a wrap in the middle of the run
wrap = bytes([0x40, 1, 0, 1, 0]) + msg(900, 1) + msg(900, 1) + msg(900, 2) + msg(900, 1) + remount + \
    msg(900, 1) + remount
put('crash', 'store_flash', 'issue17-seq-mid-wrap', wrap)
# finding 3: a blank sector with a valid erase stamp of version 2 (format must clear it)
stamp = u32(0x31465353) + u16(2) + u16(48) + u32(5)
stamp += u32(crc(stamp))
put('crash', 'store_flash', 'issue17-format-other-version', bytes([0x04]) + u16(3 * 2048) + bytes([8]) + stamp +
    msg(100, 1) + remount)

# ---- twoslot: cfg (prog, runs), runs of (u16 off, u8 len/4, bytes), then saves (k, u16 len, bytes[, torn])
blob = b'interface eth0 address 10.0.0.1/24\n' * 20
put('corpus', 'twoslot', 'saves', bytes([0x00]) + u16(0) + bytes([0]) + bytes([0]) + u16(len(blob)) + blob +
    bytes([3]) + u16(100) + blob[:100] + bytes([0x10]) + bytes([0]) + u16(7) + b'short\n\n')
put('corpus', 'twoslot', 'erase', bytes([0x11]) + u16(0) + bytes([0]) + bytes([0]) + u16(30) + blob[:30] +
    bytes([5]) + u16(40) + blob[:40] + bytes([200]))
# a slot longer than TWOSLOT_MAX with right CRCs (failed before the fix): header run + payload runs
big = bytes([0x41 + i % 26 for i in range(3585)])
hdr24 = u32(0x47464343) + u16(1) + u16(24) + u32(7) + u32(len(big)) + u32(crc(big))
hdr24 += u32(crc(hdr24))
runs = [(0, hdr24 + b'\xff' * 8)]
for i in range(0, len(big), 1020):
    runs.append((32 + i, big[i:i + 1020]))
img = bytes([(len(runs) - 1) << 5])
for off, b in runs:
    b = b + b'\xff' * ((-len(b)) % 4)
    img += u16(off) + bytes([len(b) // 4]) + b
put('crash', 'twoslot', 'issue17-longer-than-max', img)

# ---- tlsstore: u16 init len, blob, then ops (op, key, u8 len, data)
def rec(t, name, data):
    return bytes([t, len(name), len(data) & 0xFF, len(data) >> 8]) + name + data


blob0 = rec(ord('C'), b'eth0', b'cert') + rec(ord('K'), b'eth0', b'key') + rec(ord('S'), b'', b'seed')
# key byte: type = k % 4 (S C K A), name = (k >> 2) % 6 ("" eth0 sl0 a eth00 0123456789abcdef)
kC_eth0 = 1 | (1 << 2)
put('corpus', 'tlsstore', 'ops', u16(len(blob0)) + blob0 + bytes([0, kC_eth0, 3]) + b'new' +
    bytes([1, 2 | (2 << 2), 4]) + b'akey' + bytes([2, kC_eth0, 0]) + bytes([3, 0, 0]) + bytes([0xF0, 3, 200]) +
    b'x' * 200)
# finding 4: two records of one key; a put must replace both
dup = rec(ord('C'), b'eth0', b'old') + rec(ord('K'), b'eth0', b'k') + rec(ord('C'), b'eth0', b'newer')
put('crash', 'tlsstore', 'issue17-duplicate-key', u16(len(dup)) + dup + bytes([0, kC_eth0, 3]) + b'PUT')
# finding 5: a corrupt record behind the one replaced
bad = rec(ord('C'), b'eth0', b'old') + rec(ord('S'), b'', b'seed') + bytes([ord('A'), 1, 200, 0]) + b'xy'
put('crash', 'tlsstore', 'issue17-write-behind-corrupt', u16(len(bad)) + bad + bytes([0, kC_eth0, 3]) + b'new')
print('seeds written')
