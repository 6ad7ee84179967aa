"""Prints, one per line as hex, pickles that Python itself makes.

  pickles.py records    -- a LogRecord dict as SocketHandler.makePickle
                           builds it, at protocols 0 to 5
  pickles.py evil PATH  -- payloads that create PATH when unpickled by
                           Python, at protocols 0 to 5
"""
import logging
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


if sys.argv[1] == "records":
    d = record_dict()
    for proto in range(6):
        print(pickle.dumps(d, proto).hex())
else:
    for proto in range(6):
        print(pickle.dumps(Evil(sys.argv[2]), proto).hex())
