"""Python's own logging handlers, for bench: sends N records.

  py_sender.py socket|syslog-tcp|syslog-udp HOST PORT N
"""
import logging
import logging.handlers
import socket
import sys

kind, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "socket":
    handler = logging.handlers.SocketHandler(host, port)
else:
    socktype = socket.SOCK_STREAM if kind == "syslog-tcp" else socket.SOCK_DGRAM
    handler = logging.handlers.SysLogHandler((host, port), socktype=socktype)
log = logging.getLogger("bench")
log.propagate = False
log.setLevel(logging.INFO)
log.addHandler(handler)
extra = {"user": "alice", "id": 42, "ok": True, "latency": 0.0015, "path": "/api/v1/login"}
for _ in range(n):
    log.info("user logged in", extra=extra)
handler.close()
