"""gunicorn hooks of `jxdoc serve`: start nginx (service/front.py) once gunicorn listens on its
socket, stop it when gunicorn stops. nginx dies with gunicorn's master even when that is killed
(PR_SET_PDEATHSIG), so no front outlives its application."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from service.front import CONF_KEY, nginx_argv
from storage.config import env

_front: subprocess.Popen | None = None


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: SIGTERM (fast shutdown) when gunicorn goes


def when_ready(server) -> None:
    global _front
    conf = env(CONF_KEY)
    if not conf:
        return
    _front = subprocess.Popen(nginx_argv(Path(conf)), preexec_fn=_die_with_parent)  # noqa: S603,PLW1509
    time.sleep(0.3)
    if _front.poll() is not None:  # the port taken, say: nginx said why on stderr
        server.log.error("nginx did not start (exit %s); stopping", _front.returncode)
        os.kill(os.getpid(), signal.SIGTERM)


def on_exit(server) -> None:
    if _front is not None and _front.poll() is None:
        _front.terminate()
        try:
            _front.wait(10)
        except (subprocess.TimeoutExpired, ChildProcessError):
            _front.kill()
