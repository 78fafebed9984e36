"""Helpers shared by the batch tests."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path


def wait_done(client, public_id: str, timeout: float = 60) -> dict:
    """Poll the progress API until the batch is done; its last progress JSON."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/v1/batches/{public_id}").get_json()
        if body["status"] == "done":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def batch_zip(db, cfg, batch, target: Path) -> zipfile.ZipFile:
    """The batch's zip written to `target` by the archive, opened and checked."""
    from jobs import archive, runner

    archive.write_zip(db, runner.get_batch(db, batch.public_id), cfg.data_dir, target)
    z = zipfile.ZipFile(target)
    assert z.testzip() is None
    return z
