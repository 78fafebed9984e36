"""The app's Database (storage.db) kept on the Flask app, one per process."""

from __future__ import annotations

from flask import current_app

from storage.db import Database


def init_app(app) -> Database:
    db = Database(app.config["DATABASE_URL"])
    app.extensions["jxdoc.db"] = db
    return db


def get_db(app=None) -> Database:
    return (app or current_app).extensions["jxdoc.db"]
