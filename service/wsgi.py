"""WSGI entry point for gunicorn: `gunicorn service.wsgi:app`."""

from jobs.work import init_worker
from service import create_app

init_worker()  # a gunicorn worker renders documents all day: the collector's thresholds for that
app = create_app()
