"""Python's own SMTP server for interop tests: smtpd (Python <= 3.11), or
aiosmtpd where smtpd is gone (Python >= 3.12).

Prints "READY HOST:PORT", then one JSON line per email, parsed by Python's
email package: envelope, headers (decoded) and the text body.
"""
import email
import email.policy
import json
import threading
import warnings


def report(mailfrom, rcpttos, data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    print(json.dumps({
        "mailfrom": mailfrom, "rcpttos": rcpttos,
        "from": str(msg["From"]), "to": str(msg["To"]), "subject": str(msg["Subject"]),
        "date": str(msg["Date"]), "message_id": str(msg["Message-ID"]),
        "content_type": msg.get_content_type(), "charset": msg.get_content_charset(),
        "body": msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"),
    }), flush=True)


try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import asyncore
        import smtpd
except ImportError:
    smtpd = None

if smtpd is not None:
    class Server(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            report(mailfrom, rcpttos, data)

    server = Server(("127.0.0.1", 0), None, decode_data=False)
    print("READY %s:%d" % server.socket.getsockname(), flush=True)
    asyncore.loop()
else:
    import socket

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            report(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
            return "250 OK"

    with socket.socket() as s:  # aiosmtpd 1.4 cannot start on port 0
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY 127.0.0.1:%d" % port, flush=True)
    threading.Event().wait()
