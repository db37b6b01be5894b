"""A Guardrails webhook receiver: verifies the raw body, dedupes on X-Guardrails-Delivery.

Environment: GUARDRAILS_WEBHOOK_SECRET (the signing secret), VERIFY (standard | guardrails |
reserialised), PORT (0 picks a free one; the port is printed on the first line of stdout).
Needs `pip install standardwebhooks` for VERIFY=standard.
"""
import base64
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["GUARDRAILS_WEBHOOK_SECRET"]
MODE = os.environ.get("VERIFY", "standard")
seen_deliveries = set()


def verify_standard(headers, body):
    """Standard Webhooks: the reference library checks webhook-id/-timestamp/-signature."""
    from standardwebhooks.webhooks import Webhook

    # A secret without the whsec_ prefix is used as raw UTF-8 bytes by the sender.
    key = SECRET if SECRET.startswith("whsec_") else "whsec_" + base64.b64encode(SECRET.encode()).decode()
    Webhook(key).verify(body, headers)


def verify_guardrails(headers, body):
    """X-Guardrails-Signature: hex HMAC-SHA256 of the raw body with the secret's UTF-8 bytes."""
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("x-guardrails-signature", "")):
        raise ValueError("bad signature")


def verify_reserialised(headers, body):
    """The original service's documented check: HMAC over json.dumps of the parsed payload."""
    payload = json.loads(body)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    expected = "sha256=" + hmac.new(SECRET.encode(), canonical, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers.get("x-guardrails-signature", "")):
        raise ValueError("bad signature")


VERIFIERS = {"standard": verify_standard, "guardrails": verify_guardrails, "reserialised": verify_reserialised}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            VERIFIERS[MODE](headers, body)
        except Exception as err:  # any failure means: not from Guardrails
            print(json.dumps({"rejected": type(err).__name__}), flush=True)
            self.send_response(401)
            self.end_headers()
            return
        delivery = headers["x-guardrails-delivery"]
        if delivery not in seen_deliveries:  # retries repeat the id: process each event once
            seen_deliveries.add(delivery)
            event = json.loads(body)
            print(json.dumps({"verified": MODE, "event_type": event["event_type"], "delivery": delivery}), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
