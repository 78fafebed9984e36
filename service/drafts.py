"""Drafts computed from the stored data: `POST /api/v1/drafts/summary` returns a `report` and the
`request` submitting it, as JSON payloads ready to edit or to render through /api/v1/documents.

`summary_drafts()` is the one entry point; the CLI (`jxdoc draft summary-report`) calls it too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, current_app, request

from forms.base import FieldErrors, flatten_errors
from forms.drafts import SummaryDraftSchema
from generators.drafts import summary_drafts as build_drafts
from kinds import pipeline
from rules.statistics import StatisticsInputError, compute
from service.errors import ApiError
from storage.models import dumps

bp = Blueprint("drafts", __name__, url_prefix="/api/v1/drafts")

NO_DATA = "该年度没有已提交的数据：{year}年度没有已提交或已审核的绩效目标申报表、监控表、自评表或审核表，无法生成总结报告。"


def _exempt_from_csrf() -> None:
    # A JSON API like service.api: no cookie-authenticated form posts (README, Security).
    from service.extensions import csrf

    csrf.exempt(bp)


_exempt_from_csrf()


def _prefixed(prefix: str, errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    return {f"{prefix}.{path}" if path != "_schema" else prefix: messages for path, messages in errors.items()}


def summary_drafts(payload: Any, settings: Mapping[str, Any],
                   load_units: Callable[[int], list[dict]] | None = None) -> dict[str, Any]:
    """{"report", "request", "statistics"} for a draft request `payload` (SummaryDraftSchema).

    The statistics come from `payload["units"]` when given, else from `load_units(year)` (the
    stored submissions). Both drafts are validated by their own kinds before they are returned,
    so what comes back renders as it is; a rule they break (a request phrase typed into the
    narrative of the report, say) is reported under "report.…" or "request.…".
    """
    if not isinstance(payload, Mapping):
        raise FieldErrors({"_schema": ["提交的内容应为一个JSON对象（一组字段）。"]})
    from marshmallow import ValidationError

    try:
        inputs = SummaryDraftSchema(settings=settings).load(payload)
    except ValidationError as exc:
        raise FieldErrors(flatten_errors(exc.messages)) from None
    units = inputs.get("units")
    if units is None:
        if load_units is None:
            raise FieldErrors({"units": ["没有可用的数据来源：请提供单位数据，或在服务中调用。"]})
        units = load_units(inputs["year"])
    try:
        stats = compute(units, settings)
    except StatisticsInputError as exc:
        raise FieldErrors(exc.errors) from None
    if not stats.units_covered:
        # A report of "0家" would state figures nobody supplied.
        raise FieldErrors({"year": [NO_DATA.format(year=inputs["year"])]})
    drafts = build_drafts(stats, inputs, settings)
    errors: dict[str, list[str]] = {}
    for kind in ("report", "request"):
        try:
            pipeline.validate(kind, drafts[kind], settings)
        except FieldErrors as exc:
            errors.update(_prefixed(kind, exc.errors))
    if errors:
        raise FieldErrors(errors)
    return {**drafts, "statistics": stats.as_dict()}


@bp.post("/summary")
def summary():
    from service.database import get_db
    from service.settings_store import current_settings
    from storage.records import NotReady, load_units

    payload = request.get_json(silent=True)
    if payload is None:
        raise ApiError(415 if request.mimetype != "application/json" else 400,
                       "请以 application/json 提交JSON内容。")
    settings = current_settings()
    budget = float(current_app.config["STATISTICS_BUDGET_S"])
    try:
        result = summary_drafts(payload, settings, lambda year: load_units(get_db(), year, settings, budget=budget))
    except NotReady as exc:
        raise ApiError(503, exc.message) from None
    # Decimal figures leave as strings (models.dumps), exactly as documents store them.
    return current_app.response_class(dumps(result), mimetype="application/json")
