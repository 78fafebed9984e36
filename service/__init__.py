"""The Flask service: `create_app(config=None)` builds it; only this package knows HTTP."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from service.extensions import csrf
from storage import config as _config

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
    ),
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    settings = _config.from_environment(_config.defaults())
    if config:
        settings.update(config)
    app.config.update(settings)
    data_dir = Path(app.config["DATA_DIR"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _config.secret_key(data_dir)

    import kinds

    kinds.all_kinds()  # import every kind so their rules register their settings validators

    from service import database, errors, jsonbody, settings_store, timefmt

    database.init_app(app)
    timefmt.init_app(app)
    settings_store.init_app(app)
    errors.init_app(app)
    jsonbody.init_app(app)
    csrf.init_app(app)

    from service import first_admin, gate

    gate.init_app(app)  # the gate: every route needs a signed-in user unless marked @public

    from service import front

    front.trust_proxies(app)

    from service import api, batches, drafts, library, web

    # JSON API: bearer tokens need no CSRF token; cookie sessions send X-CSRFToken (service.gate)
    csrf.exempt(api.bp)
    for module in (api, web, batches, library, drafts):
        app.register_blueprint(module.bp)

    from service import account, admin, dashboard, submissions, verify

    for module in (account, submissions, admin, dashboard, verify):
        app.register_blueprint(module.bp)
    first_admin.bootstrap_admin(app)  # JXDOC_ADMIN_USERNAME/JXDOC_ADMIN_PASSWORD, once, if no admin exists

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.teardown_request
    def _close_uploads(_exc):
        # Werkzeug spools large uploads to temporary files; close them with the request rather
        # than leaving them to the garbage collector. Only if the body was parsed at all.
        from flask import request

        if "files" in request.__dict__:
            request.close()

    return app
