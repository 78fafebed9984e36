"""Load test of the real server on loopback: gunicorn with its workers, 16 concurrent clients each
posting a 公文 for a docx download; reports the p50/p95 latency and the error count.

Traffic goes only to 127.0.0.1 and the loop is bounded in requests and time.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/kinds")
            if conn.getresponse().status in (200, 401):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


SIGN_IN_SCRIPT = """
import secrets
from service import create_app
from service.first_admin import create_admin
from service.sessions import create_api_token
from service.database import get_db
from storage.models import User
app = create_app()
with app.app_context():
    user = create_admin("bench-" + secrets.token_hex(3), secrets.token_urlsafe(18) + "!aA1")
    with get_db().write() as session:
        print(create_api_token(session, session.get(User, user.id), "bench"))
"""


def bench_token(env: dict) -> str:
    """Every route needs a signed-in user: an administrator and an API token in the load test's
    own fresh database (the token is printed once by a child process, like `jxdoc` would)."""
    done = subprocess.run([sys.executable, "-c", SIGN_IN_SCRIPT], env=env, cwd=ROOT, check=True, capture_output=True,
                          text=True)
    return done.stdout.strip().splitlines()[-1]


def run(clients: int = 16, requests_per_client: int = 50, workers: int | None = None,
        kind: str = "request", max_seconds: float = 120) -> dict:
    payload = (ROOT / "samples" / kind).glob("*.json").__next__().read_bytes()
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="jxdoc-load-")
    env = {**os.environ, "JXDOC_DATA_DIR": data_dir}
    subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    workers = workers or (os.cpu_count() or 1) + 1  # CPU-bound renders: one per core plus one
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", "service.wsgi:app"], env=env, cwd=ROOT,
    )
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    headers = {"Content-Type": "application/json",
               "Authorization": f"Bearer {os.environ.get('JXDOC_BENCH_TOKEN') or bench_token(env)}"}
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(requests_per_client):
            if time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                conn.request("POST", f"/api/v1/documents/{kind}?format=docx", body=payload, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status == 200 and body[:2] == b"PK"
            except OSError as exc:
                ok, body = False, str(exc).encode()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(body[:200].decode("utf-8", "replace"))

    try:
        wait_ready(port)
        threads = [threading.Thread(target=client) for _ in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(30)
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan")
    return {"path": f"HTTP docx {kind}, {clients} clients, {workers} workers", "requests": len(latencies),
            "errors": len(errors), "p50_ms": statistics.median(latencies) if latencies else None,
            "p95_ms": p95, "throughput_rps": len(latencies) / wall if wall else 0,
            "first_error": errors[0] if errors else ""}


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False))
