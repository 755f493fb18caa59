"""The organisation (system → agency → branch, depth may vary): `tree` is the in-memory tree and
its roll-ups, `file` reads and writes the units-and-roster file, `template` builds the blank
template, `commands` is the CLI."""

from __future__ import annotations

from .tree import KINDS, Tree

__all__ = ["KINDS", "Tree"]
