"""The "did you mean" of every refusal of an unknown name (a query parameter, a JSON key,
an event file's key, an import option): the nearest valid name, or the valid ones."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(name: str, valid: Iterable[str]) -> str | None:
    """The valid name closest to `name` (case-insensitive), or None when none is close."""
    choices = {v.casefold(): v for v in valid}
    found = difflib.get_close_matches(name.casefold(), list(choices), n=1, cutoff=0.6)
    return choices[found[0]] if found else None


def unknown(what: str, name: str, valid: Iterable[str]) -> str:
    """The reason for refusing `name`: "unknown field 'prioritty'; did you mean
    'priority'?", or the valid names when none is close."""
    names = sorted(set(valid))
    near = nearest(name, names)
    if near is not None:
        return f"unknown {what} '{name}'; did you mean '{near}'?"
    if not names:
        return f"unknown {what} '{name}'; none is accepted here"
    shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
    return f"unknown {what} '{name}'; valid: {shown}"
