"""Python's SocketHandler frames, for bench -receivers: writes K distinct
frames (4-byte big-endian length, then the pickle) to stdout, made by
SocketHandler.makePickle from logging.makeLogRecord, exactly as Python
sends them.

  py_pickles.py K
"""
import logging
import logging.handlers
import sys

k = int(sys.argv[1])
handler = logging.handlers.SocketHandler("127.0.0.1", 9)  # never connects: makePickle only
out = sys.stdout.buffer
for i in range(k):
    record = logging.makeLogRecord({
        "name": "bench.receiver", "levelno": logging.INFO, "levelname": "INFO",
        "msg": "user %s logged in from %s", "args": ("alice", "192.0.2.%d" % (i % 250)),
        "pathname": "/srv/app/login.py", "filename": "login.py", "module": "login",
        "lineno": 42, "funcName": "login", "user": "alice", "id": i, "latency": 0.0015,
    })
    out.write(handler.makePickle(record))
out.flush()
