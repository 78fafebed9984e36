"""Documents stored before submissions recorded their unit (unit_id NULL) take their author's
unit when the author is a unit clerk: a clerk files only for her own unit
(service.workflow.document_unit). The statistics count a document only under its stored unit,
never under a unit its data merely names; what is left without one (written by a reviewer or the
bureau naming no registered unit) is listed on the 统计 page as 未归属单位的文档.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CLERKS = "SELECT id FROM users WHERE role = 'unit_clerk' AND unit_id IS NOT NULL"


def upgrade() -> None:
    # The version is left as it is: the document's data did not change, and the statistics read
    # its unit from the row, not from the facts kept of its version (document_facts).
    op.execute(
        "UPDATE submissions SET unit_id = (SELECT users.unit_id FROM users WHERE users.id = submissions.created_by_id)"
        f" WHERE unit_id IS NULL AND created_by_id IN ({CLERKS})")


def downgrade() -> None:
    # Which documents had no unit before is not kept: they keep the unit they were given.
    pass
