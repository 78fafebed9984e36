"""Batch jobs: per-unit documents from a workbook or stored submissions, run by the embedded
in-process runner (default) or by Celery workers with Redis (scale-out)."""
