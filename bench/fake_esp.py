"""A fake Postmark API on loopback for the send benchmark and the kill -9 checks: accepts
/email, /email/batch and /email/bulk the way Postmark does (same response shapes) and
counts what it received, per recipient (GET / answers {"received", "calls", "to"}).

    python bench/fake_esp.py --port 8925                 # or started by bench/send_digest.py
    python bench/fake_esp.py --delay 0.3                 # 300 ms per call, like a slow ESP
    python bench/fake_esp.py --refuse-bulk               # an account without the Bulk API

A call counts as received when its body has arrived, before the delay: a sender killed
while waiting for the answer has still handed those messages over, as with a real ESP.
"""

import argparse
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as with the real API
    # Headers and body go out in two writes; with Nagle on, the second waits for the
    # client's delayed ACK (40 ms) and the benchmark would measure that instead.
    disable_nagle_algorithm = True
    received = 0
    calls = 0
    by_to: Counter = Counter()
    lock = threading.Lock()
    delay = 0.0
    refuse_bulk = False

    def log_message(self, *args):  # one line per request would swamp the benchmark
        pass

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with Handler.lock:
            body = {"received": Handler.received, "calls": Handler.calls, "to": Handler.by_to}
            self._reply(200, body)

    def _count(self, recipients: list[str]) -> None:
        with Handler.lock:
            Handler.calls += 1
            Handler.received += len(recipients)
            Handler.by_to.update(recipients)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("X-Postmark-Server-Token") is None:
            self._reply(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens."})
            return
        if self.path == "/email/bulk" and Handler.refuse_bulk:
            self._reply(422, {"ErrorCode": 605, "Message": "Bulk API not enabled (fake)."})
            return
        ok = {"SubmittedAt": "2026-11-27T07:00:01.0Z", "ErrorCode": 0, "Message": "OK"}
        if self.path == "/email":
            self._count([payload["To"]])
        elif self.path == "/email/batch":
            self._count([m["To"] for m in payload])
        elif self.path == "/email/bulk":
            self._count([m["To"] for m in payload["Messages"]])
        if Handler.delay:
            time.sleep(Handler.delay)
        if self.path == "/email":
            self._reply(200, {**ok, "To": payload["To"], "MessageID": str(uuid.uuid4())})
        elif self.path == "/email/batch":
            self._reply(
                200, [{**ok, "To": m["To"], "MessageID": str(uuid.uuid4())} for m in payload]
            )
        elif self.path == "/email/bulk":
            self._reply(
                200,
                {
                    "Id": str(uuid.uuid4()),
                    "Status": "Accepted",
                    "SubmittedAt": ok["SubmittedAt"],
                    "TotalMessages": len(payload["Messages"]),
                    "PercentageCompleted": 0.0,
                },
            )
        else:
            self._reply(404, {"ErrorCode": 404, "Message": "Not found"})


def serve(port: int, *, delay: float = 0.0, refuse_bulk: bool = False) -> None:
    Handler.delay = delay
    Handler.refuse_bulk = refuse_bulk
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8925)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--refuse-bulk", action="store_true", help="answer /email/bulk with 422")
    args = parser.parse_args()
    serve(args.port, delay=args.delay, refuse_bulk=args.refuse_bulk)
