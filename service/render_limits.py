"""Limits on the documents a request renders, so that one user cannot hold the service's workers:

* pages: a PDF whose layout passes `RENDER_MAX_PAGES` (200) stops there (generators.pdf.page_limit
  — the pages beyond are never laid out) and the request answers 413, pointing to the background
  route: `POST /api/v1/documents/<kind>/jobs` renders it on the batch runner, without the limit;
* per user: at most `RENDER_CONCURRENT` (2) renders at once, and `RENDER_PAGES_PER_HOUR` (2,000)
  PDF pages an hour inside requests; beyond either, 429 with when to try again. Counted in the
  database (`render_quotas`), so every worker process of the service sees the same numbers; a
  slot a killed worker held comes back after `SLOT_SECONDS`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
from collections.abc import Iterator

from flask import current_app, url_for

from generators.pdf import TooManyPages, page_limit
from kinds import Kind, pipeline
from service.database import get_db
from service.errors import ApiError
from service.sessions import current_user
from storage.models import RenderQuota, utcnow

WINDOW = _dt.timedelta(hours=1)
SLOT_SECONDS = 120  # longer than any render within the page limit takes


class Messages:
    too_many_pages = ("文档超过{limit}页，不能在一次请求中生成。请精简内容，或改用后台生成：以同样的内容 POST {jobs_url}，"
                      "完成后下载。")
    busy = "您已有{count}份文档正在生成，请等它们完成后再试。"
    quota = "您在1小时内已在线生成{used}页文档，达到上限（{budget}页）。请{minutes}分钟后再试，或改用后台生成。"


def produce(kind: Kind, payload, fmt: str, settings, *args, **options) -> pipeline.Output:
    """pipeline.produce (with its options) within the request's limits."""
    with limited(kind, fmt):
        return pipeline.produce(kind, payload, fmt, settings, *args, **options)


@contextlib.contextmanager
def limited(kind: Kind, fmt: str) -> Iterator[None]:
    """The block renders within the request's limits: the signed-in user's render slot and
    hourly pages, and the page limit of one document (413 beyond it)."""
    config = current_app.config
    user = current_user()
    _take_slot(user.id, int(config["RENDER_CONCURRENT"]), int(config["RENDER_PAGES_PER_HOUR"]))
    pages = 0
    try:
        with page_limit(int(config["RENDER_MAX_PAGES"])) as meter:
            try:
                yield
            except TooManyPages as exc:
                pages = exc.limit  # laid out before it stopped
                jobs_url = url_for("api.document_job", kind_id=kind.id, format=fmt)
                raise ApiError(413, Messages.too_many_pages.format(limit=exc.limit, jobs_url=jobs_url)) from None
            pages = meter.pages
    finally:
        _give_back(user.id, pages)


def _take_slot(user_id: int, concurrent: int, budget: int) -> None:
    now = utcnow()
    with get_db().write() as session:
        row = session.get(RenderQuota, user_id)
        if row is None:
            row = RenderQuota(user_id=user_id, window_start=now, pages=0, in_flight=0)
            session.add(row)
        if now - row.window_start >= WINDOW:
            row.window_start, row.pages = now, 0
        if row.busy_until is None or row.busy_until < now:
            row.in_flight = 0  # the slots of renders that never came back (a killed worker)
        if row.pages >= budget:
            minutes = max(1, math.ceil((row.window_start + WINDOW - now).total_seconds() / 60))
            raise ApiError(429, Messages.quota.format(used=row.pages, budget=budget, minutes=minutes))
        if row.in_flight >= concurrent:
            raise ApiError(429, Messages.busy.format(count=row.in_flight))
        row.in_flight += 1
        row.busy_until = now + _dt.timedelta(seconds=SLOT_SECONDS)


def _give_back(user_id: int, pages: int) -> None:
    with get_db().write() as session:
        row = session.get(RenderQuota, user_id)
        if row is not None:
            row.in_flight = max(row.in_flight - 1, 0)
            row.pages += pages
