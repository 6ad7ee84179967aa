"""The logging cookbook's network receiver, for interop tests.

  py_receiver.py tcp|udp HOST     listen on a free port of HOST
  py_receiver.py unix|unixgram PATH

Prints "READY ADDRESS", then for each record one JSON line: the
LogRecord's __dict__ as logging.makeLogRecord(pickle.loads(...)) builds it,
plus "formatted" (what a logging.Formatter makes of it) and "getMessage".
"""
import json
import logging
import pickle
import socketserver
import struct
import sys
import threading

FORMAT = logging.Formatter(
    "%(asctime)s %(msecs)03d %(relativeCreated)d %(name)s %(levelname)s "
    "%(pathname)s %(filename)s %(module)s:%(lineno)d %(funcName)s "
    "%(process)d %(processName)s %(thread)s %(threadName)s %(message)s")
lock = threading.Lock()


def emit(record):
    d = dict(record.__dict__)
    d["formatted"] = FORMAT.format(record)
    d["getMessage"] = record.getMessage()
    with lock:
        print(json.dumps(d, default=repr), flush=True)


class LogRecordStreamHandler(socketserver.StreamRequestHandler):
    """The cookbook's handler: length prefix, pickle.loads, makeLogRecord."""

    def handle(self):
        while True:
            chunk = self.connection.recv(4)
            if len(chunk) < 4:
                break
            slen = struct.unpack(">L", chunk)[0]
            chunk = self.connection.recv(slen)
            while len(chunk) < slen:
                chunk = chunk + self.connection.recv(slen - len(chunk))
            emit(logging.makeLogRecord(pickle.loads(chunk)))


class LogRecordDatagramHandler(socketserver.BaseRequestHandler):
    def handle(self):
        data = self.request[0]
        slen = struct.unpack(">L", data[:4])[0]
        if slen != len(data) - 4:
            raise ValueError("length prefix %d, payload %d" % (slen, len(data) - 4))
        emit(logging.makeLogRecord(pickle.loads(data[4:])))


kind, where = sys.argv[1], sys.argv[2]
server = {
    "tcp": lambda: socketserver.ThreadingTCPServer((where, 0), LogRecordStreamHandler),
    "udp": lambda: socketserver.UDPServer((where, 0), LogRecordDatagramHandler),
    "unix": lambda: socketserver.ThreadingUnixStreamServer(where, LogRecordStreamHandler),
    "unixgram": lambda: socketserver.UnixDatagramServer(where, LogRecordDatagramHandler),
}[kind]()
addr = server.server_address
print("READY", "%s:%d" % addr if isinstance(addr, tuple) else addr, flush=True)
server.serve_forever()
