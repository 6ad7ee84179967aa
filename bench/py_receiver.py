"""The logging cookbook's network receiver, for bench -receivers: unpickles
each SocketHandler frame, rebuilds the record with makeLogRecord and has a
FileHandler write it, one line per record.

  py_receiver.py PORT OUTFILE
"""
import logging
import pickle
import socketserver
import struct
import sys

port, outfile = int(sys.argv[1]), sys.argv[2]
handler = logging.FileHandler(outfile)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
logger = logging.getLogger("bench.receiver")
logger.propagate = False
logger.addHandler(handler)


class LogRecordStreamHandler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            # The cookbook reads with connection.recv, which may return a
            # short read mid-stream; the buffered rfile cannot.
            chunk = self.rfile.read(4)
            if len(chunk) < 4:
                break
            slen = struct.unpack(">L", chunk)[0]
            chunk = self.rfile.read(slen)
            if len(chunk) < slen:
                break
            record = logging.makeLogRecord(pickle.loads(chunk))
            logger.handle(record)


class LogRecordSocketReceiver(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128  # with the default backlog of 5, 64 connections once stalled


LogRecordSocketReceiver(("127.0.0.1", port), LogRecordStreamHandler).serve_forever()
