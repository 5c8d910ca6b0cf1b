#!/usr/bin/env python3
"""A real SMTP server for the mail tests (aiosmtpd), writing every accepted mail into a Maildir.

    python3 tests/support/smtp_sink.py PORT MAILDIR [--auth USER:PASSWORD]

Listens on 127.0.0.1:PORT and prints "ready" once it accepts connections. Each accepted mail
is stored with an "X-Envelope-To:" line per envelope recipient in front of it. Recipients whose
local part starts with "refuse" get "550 5.1.1 mailbox unavailable". With --auth, mail is only
accepted after AUTH PLAIN/LOGIN with those credentials (TLS is not required: loopback).
"""
import argparse
import asyncio
import mailbox
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, maildir):
        self.box = mailbox.Maildir(maildir, create=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].lower().startswith("refuse"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        head = "".join("X-Envelope-To: %s\r\n" % r for r in envelope.rcpt_tos).encode()
        content = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        self.box.add(head + content)
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("maildir")
    p.add_argument("--auth")
    a = p.parse_args()
    kwargs = {}
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    controller = Controller(Sink(a.maildir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    try:
        signal.pause()
    except KeyboardInterrupt:
        controller.stop()


if __name__ == "__main__":
    main()
