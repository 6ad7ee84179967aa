"""Prints, one per line as hex, pickles that Python itself makes.

  pickles.py records    -- a LogRecord dict as SocketHandler.makePickle
                           builds it, at protocols 0 to 5
  pickles.py flat       -- a record with extras of scalar types only (the
                           shape the fast path reads): first the payload
                           of SocketHandler.makePickle, then the same dict
                           at protocols 0 to 5
  pickles.py evil PATH  -- payloads that create PATH when unpickled by
                           Python, at protocols 0 to 5
"""
import logging
import logging.handlers
import os
import pickle
import sys


class Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, ("touch " + self.path,))


def record_dict():
    r = logging.LogRecord("py.app", logging.WARNING, "/srv/app.py", 42,
                          "héllo %s ✓", ("wörld",), None, "handler")
    r.user = "ü"
    r.count = 2**40
    r.big = 2**80
    r.neg = -7
    r.ratio = 0.25
    r.flag = True
    r.none = None
    r.group = {"a": 1, "nested": {"b": "c"}}
    r.items = [1, "two", 3.0]
    r.exc_text = "Traceback (most recent call last):\n  boom"
    d = dict(r.__dict__)
    d["msg"] = r.getMessage()
    d["args"] = None
    d["exc_info"] = None
    d.pop("message", None)
    return d


def flat_record():
    r = logging.makeLogRecord({
        "name": "py.flat", "levelno": logging.INFO, "levelname": "INFO",
        "msg": "user %s logged in from %s", "args": ("alice", "192.0.2.7"),
        "pathname": "/srv/app/login.py", "filename": "login.py", "module": "login",
        "lineno": 42, "funcName": "login", "user": "ü", "id": 7, "count": 2**40,
        "neg": -7, "latency": 0.0015, "flag": True, "off": False, "none": None,
        "exc_text": "Traceback (most recent call last):\n  boom",
    })
    return r


if sys.argv[1] == "records":
    d = record_dict()
    for proto in range(6):
        print(pickle.dumps(d, proto).hex())
elif sys.argv[1] == "flat":
    r = flat_record()
    print(logging.handlers.SocketHandler("127.0.0.1", 9).makePickle(r)[4:].hex())
    d = dict(r.__dict__)
    d["msg"], d["args"], d["exc_info"] = r.getMessage(), None, None
    d.pop("message", None)
    for proto in range(6):
        print(pickle.dumps(d, proto).hex())
else:
    for proto in range(6):
        print(pickle.dumps(Evil(sys.argv[2]), proto).hex())
