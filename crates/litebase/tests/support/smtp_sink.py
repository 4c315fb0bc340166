#!/usr/bin/env python3
"""A real SMTP server for litebase's mail tests (needs `pip install aiosmtpd`).

    python3 smtp_sink.py --out DIR [--auth USER:PASS] [--tls starttls|tls]

Listens on 127.0.0.1 on a free port and prints "PORT <n>" once it accepts
connections. Each accepted message is written to DIR/<seq>.json as
{"mail_from", "rcpt_tos", "from", "to", "subject", "text", "html"}: envelope
addresses, decoded headers and the decoded text/plain and text/html parts.

--auth requires SMTP AUTH with those credentials (allowed without TLS, tests only).
--tls serves a fresh self-signed certificate (made with the openssl CLI), by
STARTTLS or implicit TLS, so clients that verify certificates must refuse it.

Exits when stdin closes, so it never outlives the test that started it.
"""
import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parts_of(msg):
    text, html = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == 'text/plain':
            text.append(part.get_content())
        elif ctype == 'text/html':
            html.append(part.get_content())
    return '\n'.join(text), '\n'.join(html)


class Sink:
    def __init__(self, out):
        self.out = out
        self.seq = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        text, html = parts_of(msg)
        self.seq += 1
        record = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'from': str(msg.get('From', '')),
            'to': str(msg.get('To', '')),
            'subject': str(msg.get('Subject', '')),
            'text': text,
            'html': html,
        }
        tmp = os.path.join(self.out, f'.{self.seq}.tmp')
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(record, f)
        os.replace(tmp, os.path.join(self.out, f'{self.seq}.json'))
        return '250 OK'


def self_signed_context():
    cert_dir = tempfile.mkdtemp(prefix='smtp-sink-')
    cert, key = os.path.join(cert_dir, 'cert.pem'), os.path.join(cert_dir, 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--auth')
    ap.add_argument('--tls', choices=['starttls', 'tls'])
    args = ap.parse_args()
    # Test-only settings (AUTH without TLS) make aiosmtpd warn on every start.
    warnings.simplefilter('ignore')
    logging.getLogger('mail.log').setLevel(logging.ERROR)

    smtp_options = {}
    if args.auth:
        user, password = args.auth.split(':', 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            # handled=False: aiosmtpd itself answers 535 on failure.
            return AuthResult(success=ok, handled=False)

        smtp_options.update(authenticator=authenticator, auth_required=True,
                            auth_require_tls=False)
    server_ssl = None
    if args.tls == 'starttls':
        smtp_options.update(tls_context=self_signed_context(), require_starttls=True)
    elif args.tls == 'tls':
        server_ssl = self_signed_context()

    sink = Sink(args.out)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(sink, hostname='sink.test', **smtp_options),
        host='127.0.0.1', port=0, ssl=server_ssl))
    port = server.sockets[0].getsockname()[1]

    def exit_when_stdin_closes():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    print(f'PORT {port}', flush=True)
    loop.run_forever()


if __name__ == '__main__':
    main()
