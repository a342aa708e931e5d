"""A forwarding HTTP proxy that injects faults, for the S3 storage's fault-injection test.

    python3 fault_proxy.py UPSTREAM_URL RATE [SEED]

Listens on an ephemeral port of 127.0.0.1 (printed as the first line of stdout), forwards each
request to UPSTREAM_URL unchanged (Host header included, so signatures stay valid), and for a
fraction RATE of requests instead answers 503 SlowDown (with Retry-After: 0 on half of them),
resets the connection before answering, or cuts the response body short. Counts are printed
to stderr when its standard input ends, which stops it. Standard library only.
"""

import http.client
import os
import random
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

upstream = urlsplit(sys.argv[1])
rate = float(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
lock = threading.Lock()
counts = {"forwarded": 0, "slowdown": 0, "reset": 0, "truncated": 0}


def choose():
    with lock:
        if rng.random() >= rate:
            counts["forwarded"] += 1
            return "forward"
        fault = rng.choice(["slowdown", "reset", "truncated"])
        counts[fault] += 1
        return fault


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fault = choose()
        if fault == "slowdown":
            text = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>injected</Message></Error>"
            self.send_response(503)
            if rng.random() < 0.5:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            return
        if fault == "reset":
            # SO_LINGER 0: close sends RST, the client sees a connection reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {name: value for name, value in self.headers.items()}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        # A HEAD answer keeps the object's length; any other carries the body read here.
        dropped = ("transfer-encoding", "connection") if self.command == "HEAD" else ("transfer-encoding", "connection", "content-length")
        for name, value in response.getheaders():
            if name.lower() not in dropped:
                self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault == "truncated" and len(data) > 1 and self.command != "HEAD":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if self.command != "HEAD":
            self.wfile.write(data)
        connection.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_one


def stop_at_end_of_input():
    # The test closes our standard input to stop us: signals may be blocked in a test
    # runner's children (the mask is inherited), end of file never is.
    sys.stdin.buffer.read()
    with lock:
        print(counts, file=sys.stderr, flush=True)
    os._exit(0)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=stop_at_end_of_input, daemon=True).start()
print(server.server_address[1], flush=True)
server.serve_forever()
