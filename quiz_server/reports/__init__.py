"""What organizers send upward: a contest's report as sheets, written to one xlsx workbook or one
CSV per sheet. Headers in Chinese; every number is a number.

A report may be limited to some branches (a branch secretary's): then only their rows appear,
and the question statistics describe only their members. `sheets` writes files, `questions`
computes the per-question statistics both modes share, `live`, `campaign` and `stage` build each
mode's sheets.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from ..contests import is_campaign, is_stage
from ..extensions import DbSession
from ..models import Contest
from . import campaign, live, stage
from .sheets import Column, Sheet, csv_bytes, filename, workbook_bytes

__all__ = ["Column", "Sheet", "build", "csv_bytes", "filename", "workbook_bytes"]


def build(
    session: DbSession,
    contest: Contest,
    branch_ids: Collection[int] | None = None,
    now: datetime | None = None,
) -> list[Sheet]:
    """Every sheet of the contest's report; `branch_ids` limits it to those branches' rows.
    `now` ends a campaign's daily sheet at today (without it: at the window's last day)."""
    if is_campaign(contest):
        return campaign.sheets(session, contest, branch_ids, now)
    if is_stage(contest):
        return stage.sheets(session, contest, branch_ids)
    return live.sheets(session, contest, branch_ids)
