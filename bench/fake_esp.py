"""A fake Postmark API on loopback for the send benchmark: accepts /email, /email/batch and
/email/bulk the way Postmark does (same response shapes) and counts what it received.

    python bench/fake_esp.py --port 8925     # or started by bench/send_digest.py
"""

import argparse
import json
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as with the real API
    # Headers and body go out in two writes; with Nagle on, the second waits for the
    # client's delayed ACK (40 ms) and the benchmark would measure that instead.
    disable_nagle_algorithm = True
    received = 0

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
        self._reply(200, {"received": Handler.received})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("X-Postmark-Server-Token") is None:
            self._reply(401, {"ErrorCode": 10, "Message": "No Account or Server API tokens."})
            return
        ok = {"SubmittedAt": "2026-11-27T07:00:01.0Z", "ErrorCode": 0, "Message": "OK"}
        if self.path == "/email":
            Handler.received += 1
            self._reply(200, {**ok, "To": payload["To"], "MessageID": str(uuid.uuid4())})
        elif self.path == "/email/batch":
            Handler.received += len(payload)
            self._reply(
                200, [{**ok, "To": m["To"], "MessageID": str(uuid.uuid4())} for m in payload]
            )
        elif self.path == "/email/bulk":
            Handler.received += len(payload["Messages"])
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


def serve(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8925)
    serve(parser.parse_args().port)
