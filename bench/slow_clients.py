"""Slow clients on loopback (issue 16, finding 2): connections that send a request one byte at a time
— a `POST /login` announcing a large body, or headers that never end — while 16 ordinary clients
use the service. Reports the ordinary clients' p50/p95 latency and errors.

Bounded: only 127.0.0.1, a fixed number of slow connections (a closed one is reopened, so the
pressure stays constant), a fixed duration, a fixed number of ordinary requests.

    python -m bench.slow_clients            # `jxdoc serve` as `make run` starts it
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SLOW_BODY = (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             b"Content-Length: 10000000\r\n\r\nusername=")
SLOW_HEADERS = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"


class SlowClients:
    """`count` connections to 127.0.0.1:`port`, half sending a body and half sending headers, one
    byte each every `interval` seconds, for at most `duration` seconds."""

    def __init__(self, port: int, count: int = 100, interval: float = 1.0, duration: float = 30.0):
        self.port, self.count, self.interval, self.duration = port, count, interval, duration
        self.sockets: list[socket.socket | None] = [None] * count
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, i: int) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        try:
            s.send(SLOW_BODY if i % 2 == 0 else SLOW_HEADERS)
        except OSError:
            pass
        self.sockets[i] = s

    def _drip(self, i: int) -> None:
        s = self.sockets[i]
        try:
            if s is None:
                raise OSError
            s.send(b"a" if i % 2 == 0 else b"X")  # a body byte, or a header line that never ends
            try:
                if s.recv(4096) == b"":  # closed by the server (a timeout)
                    raise OSError
            except BlockingIOError:
                pass
        except OSError:
            if s is not None:
                s.close()
            self.reopened += 1
            try:
                self._open(i)
            except OSError:
                self.sockets[i] = None

    def _run(self) -> None:
        deadline = time.monotonic() + self.duration
        while not self._stop.is_set() and time.monotonic() < deadline:
            for i in range(self.count):
                self._drip(i)
            self._stop.wait(self.interval)

    def __enter__(self) -> SlowClients:
        for i in range(self.count):
            self._open(i)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        for s in self.sockets:
            if s is not None:
                s.close()


def ordinary_clients(port: int, clients: int = 16, requests_per_client: int = 10, path: str = "/login",
                     headers: dict | None = None, timeout: float = 5.0) -> dict:
    """`clients` threads, each making `requests_per_client` GETs of `path` on one keep-alive
    connection; an answer other than 200, or none within `timeout`, is an error."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        for _ in range(requests_per_client):
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers or {})
                resp = conn.getresponse()
                resp.read()
                error = "" if resp.status == 200 else f"HTTP {resp.status}"
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                (errors.append(error) if error else latencies.append(elapsed))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"requests": len(latencies) + len(errors), "errors": len(errors), "first_error": errors[0] if errors else "",
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p95_ms": latencies[max(int(len(latencies) * 0.95) - 1, 0)] if latencies else None,
            "max_ms": latencies[-1] if latencies else None}


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/login")
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError("server did not start")


def start_server(port: int, data_dir: str, workers: int | None = None, env: dict | None = None) -> subprocess.Popen:
    """`jxdoc serve` on 127.0.0.1:`port` as `make run` starts it, on its own data directory."""
    env = {**os.environ, "JXDOC_DATA_DIR": data_dir, **(env or {})}
    for name in ("JXDOC_DATABASE_URL", "JXDOC_ADMIN_USERNAME", "JXDOC_ADMIN_PASSWORD"):
        env.pop(name, None)
    argv = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers:
        argv += ["--workers", str(workers)]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(slow: int = 100, clients: int = 16, requests_per_client: int = 25, workers: int | None = None) -> dict:
    from bench.http_load import free_port

    port = free_port()
    server = start_server(port, tempfile.mkdtemp(prefix="jxdoc-slow-"), workers)
    try:
        wait_ready(port)
        with SlowClients(port, count=slow, interval=1.0, duration=120) as attack:
            time.sleep(2)  # every slow connection open and dripping
            result = ordinary_clients(port, clients, requests_per_client)
            reopened = attack.reopened
    finally:
        server.terminate()
        server.communicate(timeout=30)
    return {"path": f"GET /login, {clients} clients beside {slow} slow connections", **result,
            "slow_reopened": reopened}


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False))
