"""Issue 16, finding 2: connections that send a request one byte at a time (a `POST /login` with a
large Content-Length, or headers that never end) must not stop the service answering others.

`jxdoc serve` (what `make run` starts) puts nginx in front of gunicorn: nginx reads every request
whole, with timeouts, before a gunicorn worker sees it, so slow clients cost a connection slot in
nginx, not a worker. Bounded: loopback only, a fixed number of slow connections for a fixed time.
The latency figures (p95) are the benchmark's (bench/slow_clients.py); here: nobody goes unanswered.
"""

from __future__ import annotations

import time

import pytest

from bench.slow_clients import SlowClients, ordinary_clients, start_server, wait_ready
from tests.servers import free_port

pytestmark = pytest.mark.xdist_group("servers")


@pytest.fixture
def served(tmp_path):
    port = free_port()
    server = start_server(port, str(tmp_path / "data"), workers=2)
    try:
        wait_ready(port)
        yield port, server
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_three_slow_logins_leave_the_service_answering(served):
    port, _ = served
    with SlowClients(port, count=3, interval=1.0, duration=20):
        time.sleep(1.5)
        result = ordinary_clients(port, clients=2, requests_per_client=5, timeout=5)
    assert result["errors"] == 0, result


def test_a_hundred_slow_connections_beside_sixteen_clients(served):
    port, _ = served
    with SlowClients(port, count=100, interval=1.0, duration=40) as attack:
        time.sleep(2)
        result = ordinary_clients(port, clients=16, requests_per_client=10, timeout=5)
        assert sum(s is not None for s in attack.sockets) >= 90  # the pressure really was there
    assert result["requests"] == 160 and result["errors"] == 0, result
