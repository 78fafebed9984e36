"""The nginx front of `jxdoc serve` (service/front.py): a configuration nginx accepts, that reads
requests whole with timeouts, and the client's address taken from what nginx saw."""

from __future__ import annotations

import subprocess

from service.front import Front, nginx_argv, nginx_conf, prepare


def test_nginx_accepts_the_configuration(tmp_path):
    front = Front(host="127.0.0.1", port=8123, run_dir=tmp_path / "run", max_body_bytes=20 * 1024 * 1024,
                  client_timeout=7)
    prepare(front)
    done = subprocess.run([*nginx_argv(front.conf), "-t"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    conf = nginx_conf(front)
    for directive in ("client_header_timeout 7s;", "client_body_timeout 7s;", "proxy_request_buffering on;",
                      "proxy_buffering on;", f"server unix:{front.socket};", "listen 127.0.0.1:8123;",
                      f"client_max_body_size {21 * 1024 * 1024};"):
        assert directive in conf


def test_the_client_address_is_the_one_nginx_saw(tmp_path):
    from service import create_app
    from service.gate import public

    app = create_app({"TESTING": True, "DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "FRONT_PROXY": True,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    seen = []

    @app.get("/probe")
    @public
    def probe():
        from flask import request

        seen.append(request.remote_addr)
        return ""

    # a client's own X-Forwarded-For comes first; nginx appends the address it saw
    app.test_client().get("/probe", headers={"X-Forwarded-For": "6.6.6.6, 10.1.2.3"},
                          environ_base={"REMOTE_ADDR": ""})
    assert seen == ["10.1.2.3"]
