"""One error envelope for every failure: {"code", "status", "message", "errors", "error_count"}.

API paths answer JSON; pages answer a Chinese HTML page with the same message. Validation
failures are 422 with the Chinese messages under `errors`, keyed by field path. An envelope
carries at most MAX_ERRORS messages (the first ones, in field order) and `error_count`, the number
there were: a body of a million bad values must not buy a response a thousand times its size.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from forms.base import FieldErrors, UnconfirmedWarnings
from kinds import UnknownFormat, UnknownKind

MESSAGES = {
    400: "请求有误。",
    401: "请先登录。",
    403: "没有权限进行此操作。",
    404: "找不到您要的内容。",
    405: "不支持这种请求方式。",
    409: "操作冲突，请刷新后重试。",
    413: "上传的内容过大。",
    415: "不支持的内容类型，请以JSON提交。",
    422: "提交的内容有误，请按提示修改。",
    429: "操作过于频繁，请稍后再试。",
    500: "服务器内部错误，请稍后再试；如果问题持续，请联系管理员。",
}


MAX_ERRORS = 100


def cap_errors(errors: dict, limit: int = MAX_ERRORS) -> tuple[dict, int]:
    """The first `limit` messages of `errors` (field → list of messages), and how many there were."""
    capped: dict = {}
    kept = total = 0
    for path, messages in errors.items():
        messages = messages if isinstance(messages, list) else [messages]
        total += len(messages)
        if kept < limit:
            capped[path] = messages[: limit - kept]
            kept += len(capped[path])
    return capped, total


class ApiError(Exception):
    def __init__(self, code: int, message: str | None = None, errors: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message or MESSAGES.get(code, HTTPStatus(code).phrase)
        self.errors = errors or {}


def envelope(code: int, message: str, errors: dict | None = None, warnings: list | None = None):
    """The body every failure answers; `warnings` (beside `errors`) lists the figures to confirm,
    each {key, path, code, message, confirmed, explanation}."""
    shown, count = cap_errors(errors or {})
    if count > MAX_ERRORS:
        message = f"{message}共有{count}处错误，以下列出前{MAX_ERRORS}处。"
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message, "errors": shown,
            "error_count": count, "warnings": list(warnings or [])[:MAX_ERRORS]}
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(body), code
    return render_template("error.html", error=body), code


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return envelope(exc.code, exc.message, exc.errors)

    @app.errorhandler(UnconfirmedWarnings)
    def _unconfirmed(exc: UnconfirmedWarnings):
        return envelope(422, exc.message, {}, exc.warnings)

    @app.errorhandler(FieldErrors)
    def _field_errors(exc: FieldErrors):
        return envelope(422, MESSAGES[422], exc.errors)

    @app.errorhandler(UnknownKind)
    def _unknown_kind(exc: UnknownKind):
        return envelope(404, str(exc), {"kind": [str(exc)]})

    @app.errorhandler(UnknownFormat)
    def _unknown_format(exc: UnknownFormat):
        return envelope(400, str(exc), {"format": [str(exc)]})

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        message = MESSAGES.get(code, exc.description or HTTPStatus(code).phrase)
        if code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            size = f"{limit // (1024 * 1024)}MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)}KB"
            message = f"上传的内容过大，不能超过{size}。"
        if code == 400 and getattr(exc, "description", "") and "CSRF" in exc.description:
            message = "表单已过期或缺少安全令牌（CSRF），请刷新页面后重新提交。"
        return envelope(code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return envelope(500, MESSAGES[500])
