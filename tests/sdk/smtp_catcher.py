#!/usr/bin/env python3
"""A tiny SMTP mail catcher for the SDK suite (needs `pip install aiosmtpd`).

    python3 smtp_catcher.py --smtp-port 2525 --http-port 2526 [--host 127.0.0.1]

Listens for SMTP on HOST:SMTP_PORT (no TLS, no auth, accepts every message) and
serves what it caught as JSON on http://HOST:HTTP_PORT:

    GET /messages            -> [{"seq", "from", "to", "subject", "text", "html", "body"}, ...]
    GET /messages?since=N    -> only the messages with seq > N
    GET /health              -> {"ok": true, "count": N}
    DELETE /messages         -> forgets everything (seq keeps counting)

`to` is the list of envelope recipients (RCPT TO), lower-cased. `text` and `html`
are the decoded text/plain and text/html parts ("" when absent); `body` is `text`
when there is one, else `html`. Prints "READY" on stdout once both ports listen.
It runs until SIGTERM/SIGINT.
"""
import argparse
import email
import email.policy
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller

LOCK = threading.Lock()
MESSAGES = []
SEQ = 0


def parts_of(msg):
    text, html = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == 'attachment':
            continue
        ctype = part.get_content_type()
        if ctype not in ('text/plain', 'text/html'):
            continue
        try:
            content = part.get_content()
        except Exception:  # undecodable charset etc.
            payload = part.get_payload(decode=True) or b''
            content = payload.decode('utf-8', 'replace')
        (text if ctype == 'text/plain' else html).append(content)
    return '\n'.join(text), '\n'.join(html)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global SEQ
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode('utf-8', 'replace')
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text, html = parts_of(msg)
        with LOCK:
            SEQ += 1
            MESSAGES.append({
                'seq': SEQ,
                'from': envelope.mail_from,
                'to': [r.lower() for r in envelope.rcpt_tos],
                'headerTo': str(msg.get('To', '')),
                'subject': str(msg.get('Subject', '')),
                'text': text,
                'html': html,
                'body': text if text.strip() else html,
            })
        return '250 Message accepted for delivery'


class Http(BaseHTTPRequestHandler):
    def _send(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header('content-type', 'application/json')
        self.send_header('content-length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == '/health':
            with LOCK:
                return self._send(200, {'ok': True, 'count': len(MESSAGES), 'seq': SEQ})
        if url.path == '/messages':
            since = int(parse_qs(url.query).get('since', ['0'])[0] or 0)
            with LOCK:
                return self._send(200, [m for m in MESSAGES if m['seq'] > since])
        self._send(404, {'error': 'not found'})

    def do_DELETE(self):
        if urlparse(self.path).path == '/messages':
            with LOCK:
                MESSAGES.clear()
            return self._send(200, {'ok': True})
        self._send(404, {'error': 'not found'})

    def log_message(self, *args):  # quiet
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--smtp-port', type=int, required=True)
    ap.add_argument('--http-port', type=int, required=True)
    args = ap.parse_args()

    controller = Controller(Handler(), hostname=args.host, port=args.smtp_port,
                            ready_timeout=10)
    controller.start()
    httpd = ThreadingHTTPServer((args.host, args.http_port), Http)
    httpd.daemon_threads = True

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print('READY', flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        controller.stop()
        httpd.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
