"""Routes for batches (filled in by its issue)."""

from flask import Blueprint

bp = Blueprint("batches", __name__)
