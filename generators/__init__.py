"""Renderers: validated plain data in, bytes out. Nothing here imports Flask or the database."""
