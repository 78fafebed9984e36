"""How request bodies are read as JSON: bounded in depth (forms.base.load_json), so a body nested
thousands deep is a 400 in the error envelope, not a RecursionError and a 500."""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

from forms.base import NestingTooDeep, load_json
from service.errors import ApiError


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return load_json(s, **kwargs)
        except NestingTooDeep as exc:
            # Not a ValueError for Flask: get_json(silent=True) must not turn it into None.
            raise ApiError(400, exc.message, {"_schema": [exc.message]}) from None


def init_app(app) -> None:
    app.json = BoundedJSONProvider(app)
