"""Routes for library (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("library", __name__)
