"""The front of `jxdoc serve`: nginx reads every request whole before a gunicorn worker sees it.

gunicorn's sync workers (one request at a time each, the right model for CPU-bound renders) read
the request themselves: a client sending its headers or body one byte every few seconds holds a
worker for as long as it likes, and a handful of them stop the service (issue 16, finding 2).
gunicorn's own documentation asks for a buffering proxy in front of sync workers; nginx is that
proxy. It waits for slow clients with an event loop (thousands of connections per process), hands
gunicorn only complete requests over a Unix socket, drops a client that stalls longer than
CLIENT_TIMEOUT seconds (the headers must arrive whole within it; the body may not pause longer),
and buffers responses so a slow reader does not hold a worker either.

`jxdoc serve` writes the configuration into DATA_DIR/run/<port>/ and gunicorn starts and stops
nginx with itself (service/gunicorn_conf.py). JXDOC_FRONT=none serves with gunicorn alone, for a
deployment that already has such a proxy (its settings must then do what this file does).
"""

from __future__ import annotations

import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

CONF_KEY = "FRONT_NGINX_CONF"  # JXDOC_FRONT_NGINX_CONF tells gunicorn's hooks which nginx to start


@dataclass(frozen=True)
class Front:
    host: str
    port: int
    run_dir: Path  # configuration, pid, temporary files and gunicorn's socket
    max_body_bytes: int
    client_timeout: int  # seconds

    @property
    def socket(self) -> Path:
        return self.run_dir / "gunicorn.sock"

    @property
    def conf(self) -> Path:
        return self.run_dir / "nginx.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def _listen(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def nginx_conf(front: Front) -> str:
    run = front.run_dir
    # A master started as root would run its workers as `nobody`, who cannot enter a private data
    # directory: they run as the user who runs jxdoc, like gunicorn's workers.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    # The application answers an oversized body with its own 413 envelope; nginx stops only bodies
    # well beyond that (it reads them to disk first).
    body_limit = front.max_body_bytes + 1024 * 1024
    t = front.client_timeout
    return f"""# Written by `jxdoc serve` (service/front.py); rewritten at every start.
{user}worker_processes 1;
pid {run}/nginx.pid;
daemon off;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;  # gunicorn logs every request it answers
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    server_tokens off;
    client_header_timeout {t}s;
    client_body_timeout {t}s;
    send_timeout {t * 3}s;
    keepalive_timeout 30s;
    client_max_body_size {body_limit};
    client_body_buffer_size 1m;
    large_client_header_buffers 4 16k;
    upstream jxdoc {{ server unix:{front.socket}; }}
    server {{
        listen {_listen(front.host, front.port)};
        location / {{
            proxy_pass http://jxdoc;
            proxy_request_buffering on;
            proxy_buffering on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }}
    }}
}}
"""


def prepare(front: Front) -> None:
    """Write the configuration; leave no stale socket or pid from a previous run."""
    front.run_dir.mkdir(parents=True, exist_ok=True)
    front.socket.unlink(missing_ok=True)
    (front.run_dir / "nginx.pid").unlink(missing_ok=True)
    front.conf.write_text(nginx_conf(front), encoding="utf-8")


def nginx_argv(conf: Path) -> list[str]:
    binary = nginx_binary() or "nginx"
    return [binary, "-p", str(conf.parent), "-e", "stderr", "-c", str(conf)]


def trust_proxies(app) -> None:
    """Behind proxies, read the client's address (the rate limiter's key) and scheme (Secure
    cookies) from their X-Forwarded-* headers: TRUSTED_PROXIES of the deployment's own (a TLS
    terminator), plus our nginx, which appends the address it saw to X-Forwarded-For."""
    outer = app.config["TRUSTED_PROXIES"]
    addresses = outer + (1 if app.config["FRONT_PROXY"] else 0)
    if addresses:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=addresses, x_proto=outer, x_host=outer)
