"""The roles of signed-in users and which of them see, review and write documents."""

from __future__ import annotations

UNIT_CLERK, DEPARTMENT_REVIEWER, FINANCE_BUREAU, ADMIN = "unit_clerk", "department_reviewer", "finance_bureau", "admin"
REVIEWERS = (DEPARTMENT_REVIEWER, FINANCE_BUREAU)
SEE_ALL = (FINANCE_BUREAU, ADMIN)
AUTHORS = (UNIT_CLERK, DEPARTMENT_REVIEWER, FINANCE_BUREAU)  # may store documents
DELETED = "deleted"  # a draft its author deleted: kept for the audit log's sake, shown nowhere
