"""The organizer console, one module per noun, every page linked from the console navigation
(templates/admin/layout.html) and every route behind `role_required` (a test over the URL map
fails when one is not):

`home` the contest list · `banks` question banks · `contests` set-up and the contest page ·
`control` live control · `audit` the organizers' action log · `users` accounts · `orgs` the organisation tree · `results` result
pages and report downloads · `flags` a campaign's fair-play review. `console` holds the
blueprint and the downloads they share.
"""

from __future__ import annotations

from flask import Blueprint

from . import audit, banks, contests, control, flags, home, orgs, results, users  # noqa: F401
from .console import bp

# `admin` carries most pages; orgs and results keep their own blueprints (and endpoint names).
blueprints: tuple[Blueprint, ...] = (bp, orgs.bp, results.bp)
