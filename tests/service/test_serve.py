"""The run command: `jxdoc serve` migrates a fresh data directory and serves the pages with
gunicorn on loopback."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.servers import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_serve_starts_on_a_fresh_data_directory(tmp_path):
    port = free_port()
    env = {**os.environ, "JXDOC_DATA_DIR": str(tmp_path / "data")}
    env.pop("JXDOC_DATABASE_URL", None)
    env.pop("JXDOC_ADMIN_USERNAME", None)
    env.pop("JXDOC_ADMIN_PASSWORD", None)
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        status, body, server = None, "", ""
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/")
                resp = conn.getresponse()
                status, body, server = resp.status, resp.read().decode("utf-8"), resp.getheader("Server")
                break
            except OSError:
                time.sleep(0.3)
            finally:
                conn.close()
        assert status in (200, 302), status
        assert server == "nginx"  # the buffering front (service/front.py) answers, gunicorn behind it
        assert (tmp_path / "data" / "jxdoc.sqlite3").exists()
        assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0
        if status == 200:
            assert "预算绩效管理文书服务" in body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    time.sleep(0.5)
    with socket.socket() as s:  # nginx went with gunicorn
        assert s.connect_ex(("127.0.0.1", port)) != 0
    assert f"http://127.0.0.1:{port}/" in out
    # no administrator yet and no default password: the command says how to create one
    assert "尚无管理员账号" in out and "jxdoc create-admin" in out and "JXDOC_ADMIN_PASSWORD" in out


@pytest.mark.parametrize("variables, reason", [
    ({"JXDOC_ADMIN_USERNAME": "admin", "JXDOC_ADMIN_PASSWORD": "short"}, "密码"),
    ({"JXDOC_ADMIN_USERNAME": "admin"}, "没有设置 JXDOC_ADMIN_PASSWORD"),
])
def test_serve_stops_on_a_bad_admin_password(tmp_path, variables, reason):
    """A first administrator asked for and not made: `make run` stops with the reason instead of
    serving a site nobody can sign in to."""
    env = {**os.environ, "JXDOC_DATA_DIR": str(tmp_path / "data"), **variables}
    env.pop("JXDOC_DATABASE_URL", None)
    if "JXDOC_ADMIN_PASSWORD" not in variables:
        env.pop("JXDOC_ADMIN_PASSWORD", None)
    done = subprocess.run([sys.executable, "-m", "service.cli", "serve", "--port", str(free_port()), "--workers", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "未启动" in done.stderr and reason in done.stderr, done.stderr
    assert "jxdoc 已启动" not in done.stdout
