"""The progress callback of long work (imports, index builds, training, evaluation)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total)."""
