"""Real servers for tests: PostgreSQL and Redis started from the Debian packages the set-up
installs, each on a free loopback port in a temporary directory, stopped at the end.

A missing binary is a failure with a clear message, not a skip: `make test` installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start within {timeout} s")


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (scripts/bootstrap.sh test) to install it")
    return found[-1]


@contextmanager
def postgres_server():
    """A throw-away PostgreSQL cluster; yields its SQLAlchemy URL. Runs as the `postgres` system
    user when started as root, because the server refuses to run as root; its directory is made
    under /tmp because pytest's own temporary directories are closed to other users."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    base = Path(tempfile.mkdtemp(prefix="jxdoc-pg-"))
    base.chmod(0o755)
    data = base / "pgdata"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, initdb, "-D", str(data), "-U", "jxdoc", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off -c max_connections=60"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", opts, "-l", str(base / "pg.log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        _wait_port(port)
        subprocess.run([*run_as, _postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "jxdoc", "jxdoc"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://jxdoc@127.0.0.1:{port}/jxdoc"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def redis_server(base: Path):
    """A throw-away Redis without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make test` (scripts/bootstrap.sh test) to install it")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(base)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
