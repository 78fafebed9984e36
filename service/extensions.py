"""Flask extensions made once and bound to the app by create_app: the blueprints use them without
importing the app's package."""

from __future__ import annotations

from flask_wtf import CSRFProtect

csrf = CSRFProtect()
