"""A local stand-in for Twilio's Programmable Messaging API, on loopback, over real HTTP.

It answers `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` as Twilio documents it
(form-encoded To, From, Body; HTTP basic auth with the account SID and auth token; 201 with
the message resource as JSON; 4xx with Twilio's error JSON), so the real `twilio` library
and `outreach.sms.TwilioBackend` talk to it unchanged (TWILIO_API_BASE_URL points here).

`accepted` lists the messages it accepted, in order. `hold_next()` makes the next request
wait without an answer until `release()`: a worker can be killed while it waits (the text
is then never accepted, as when the provider never got it).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
FROM_NUMBER = "+15550009999"


class FakeTwilio:
    def __init__(self):
        self.accepted: list[dict] = []
        self.requests = 0
        self.fail_with: tuple[int, int] | None = None  # (HTTP status, Twilio error code)
        self._hold = False
        self.held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def hold_next(self) -> None:
        self._hold = True

    def release(self) -> None:
        self._release.set()

    def bodies_to(self, number: str) -> list[str]:
        return [m["Body"] for m in self.accepted if m["To"] == number]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the test reads `accepted`
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with fake._lock:
                    fake.requests += 1
                    hold, fake._hold = fake._hold, False
                if hold:
                    fake.held.set()
                    fake._release.wait(120)
                    self.close_connection = True
                    return  # no answer: the provider never accepted it
                expected = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
                if self.path != expected:
                    return self._json(
                        404, _error(20404, "The requested resource was not found", 404)
                    )
                if (
                    self.headers.get("Authorization")
                    != "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
                ):
                    return self._json(401, _error(20003, "Authenticate", 401))
                if fake.fail_with:
                    status, code = fake.fail_with
                    return self._json(status, _error(code, "Refused by the fake", status))
                if not form.get("To", "").startswith("+") or not form.get("Body"):
                    return self._json(400, _error(21211, "Invalid 'To' Phone Number"))
                sid = "SM" + uuid.uuid4().hex
                with fake._lock:
                    fake.accepted.append({**form, "sid": sid})
                now = formatdate(usegmt=True)
                self._json(
                    201,
                    {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": form["To"],
                        "from": form.get("From"),
                        "body": form["Body"],
                        "status": "queued",
                        "direction": "outbound-api",
                        "num_segments": "1",
                        "num_media": "0",
                        "api_version": "2010-04-01",
                        "date_created": now,
                        "date_updated": now,
                        "date_sent": None,
                        "error_code": None,
                        "error_message": None,
                        "uri": f"{expected[:-5]}/{sid}.json",
                    },
                )

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(code: int, message: str, status: int = 400) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
