"""Messages of the admin pages (see service/console/messages/__init__.py)."""

from __future__ import annotations

JA: dict[str, str] = {}

EN: dict[str, str] = {}
