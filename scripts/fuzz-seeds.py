"""Writes the seed corpora of the fuzz targets from what real peers send:
pickles Python makes (records at protocols 0 to 5, and payloads that run
os.system when Python unpickles them), Python's SocketHandler frames, and
the syslog messages of Python's SysLogHandler and of logger(1).

  python3 scripts/fuzz-seeds.py     (from the repository's root)

The files are committed; run this again only to refresh them.
"""
import logging
import logging.handlers
import os
import socket
import subprocess
import sys
import tempfile


def quote(b):
    return '"' + "".join(chr(c) if 32 <= c < 127 and chr(c) not in '"\\' else "\\x%02x" % c for c in b) + '"'


def write(target, name, data):
    pkg, fuzz = target.split("/")
    d = os.path.join("internal", pkg, "testdata", "fuzz", fuzz)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w") as f:
        f.write("go test fuzz v1\n[]byte(%s)\n" % quote(data))


def pickles(kind, *args):
    out = subprocess.run([sys.executable, "internal/pickle/testdata/pickles.py", kind, *args],
                         check=True, capture_output=True, text=True).stdout
    return [bytes.fromhex(line) for line in out.split()]


def syslog_messages():
    """What Python's SysLogHandler and logger(1) send, caught on a socket."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "log.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(5)
        handler = logging.handlers.SysLogHandler(path)
        handler.ident = "py.app: "
        log = logging.getLogger("seeds")
        log.addHandler(handler)
        log.warning("héllo ✓ from Python")
        handler.close()
        for args in (["--rfc5424", "--msgid", "ID47", "--sd-id", "x@32473", "--sd-param", 'a="b"'],
                     ["--rfc3164", "-p", "local0.warn"], ["--rfc5424", "-p", "user.err"]):
            subprocess.run(["logger", "-u", path, "-t", "app", *args, "héllo\nmulti-line ✓"], check=True)
        return [sock.recv(65536) for _ in range(4)]


records = pickles("records")
evil = pickles("evil", "/tmp/netlog-fuzz-pwned")
for proto, p in enumerate(records):
    write("pickle/FuzzDecode", "python-record-protocol-%d" % proto, p)
flat = pickles("flat")
write("pickle/FuzzDecode", "python-sockethandler-flat", flat[0])
for proto, p in enumerate(flat[1:]):
    write("pickle/FuzzDecode", "python-flat-protocol-%d" % proto, p)
for proto, p in enumerate(evil):
    write("pickle/FuzzDecode", "python-os-system-protocol-%d" % proto, p)
for proto in (1, 4):
    frame = len(records[proto]).to_bytes(4, "big") + records[proto]
    write("transport/FuzzFrameReader", "python-sockethandler-protocol-%d" % proto, frame)

names = ["python-syslog", "logger-rfc5424-sd", "logger-rfc3164", "logger-rfc5424-multiline"]
messages = syslog_messages()
for name, m in zip(names, messages):
    write("syslog/FuzzParse", name, m)
stream = b"".join(b"%d %s" % (len(m), m) for m in messages[1:]) + messages[2] + b"\n" + messages[0]
write("transport/FuzzSyslogReader", "logger-octet-counted-lf-python", stream)
