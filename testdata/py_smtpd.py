"""Python's own SMTP server (smtpd, Python <= 3.11) for interop tests.

Prints "READY HOST:PORT", then one JSON line per email, parsed by Python's
email package: envelope, headers (decoded) and the text body.
"""
import email
import email.policy
import json
import sys
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd


class Server(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        print(json.dumps({
            "mailfrom": mailfrom, "rcpttos": rcpttos,
            "from": str(msg["From"]), "to": str(msg["To"]), "subject": str(msg["Subject"]),
            "date": str(msg["Date"]), "message_id": str(msg["Message-ID"]),
            "content_type": msg.get_content_type(), "charset": msg.get_content_charset(),
            "body": msg.get_body(preferencelist=("plain",)).get_content(),
        }), flush=True)


server = Server(("127.0.0.1", 0), None, decode_data=False)
print("READY %s:%d" % server.socket.getsockname(), flush=True)
asyncore.loop()
