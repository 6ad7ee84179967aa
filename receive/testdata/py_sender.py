"""Sends records with Python's own handlers, for interop tests.

  py_sender.py tcp|udp HOST:PORT
  py_sender.py unix|unixgram PATH

Sends, through SocketHandler (tcp, unix) or DatagramHandler (udp,
unixgram): one record per level with arguments and extra attributes, one
with an exception, one with stack_info. Prints the pid and the records'
line numbers as JSON when done.
"""
import json
import logging
import logging.handlers
import os
import sys

kind, where = sys.argv[1], sys.argv[2]
host, port = (where.rsplit(":", 1)[0], int(where.rsplit(":", 1)[1])) if kind in ("tcp", "udp") else (where, None)
cls = logging.handlers.SocketHandler if kind in ("tcp", "unix") else logging.handlers.DatagramHandler
handler = cls(host, port)
log = logging.getLogger("py.sender")
log.setLevel(logging.DEBUG)
log.addHandler(handler)
lines = {}

for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL, 25):
    lines[str(level)] = sys._getframe().f_lineno + 1
    log.log(level, "héllo %s ✓", logging.getLevelName(level),
            extra={"user": "ü", "n": 3, "ratio": 0.5, "ok": True, "g": {"a": 1, "h": {"b": "c"}}})
try:
    1 / 0
except ZeroDivisionError:
    lines["exception"] = sys._getframe().f_lineno + 1
    log.exception("failed")
lines["stack"] = sys._getframe().f_lineno + 1
log.info("with stack", stack_info=True)
handler.close()
print(json.dumps({"pid": os.getpid(), "lines": lines}))
