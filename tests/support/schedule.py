"""Building event documents for the schedule tests: participants p000.. with random
want / must wishes and slot times from 13:00 in Tokyo."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

TOKYO = dt.timezone(dt.timedelta(hours=9))
JAPANESE = "株式会社東京精密「試作」"
START = dt.datetime(2026, 6, 10, 13, 0, tzinfo=TOKYO)


def event_doc(
    n: int = 12,
    slots: int = 6,
    tables: int | list[dict[str, Any]] = 4,
    *,
    seed: int = 0,
    wishes_each: int = 3,
    names: dict[int, str] | None = None,
    slot_minutes: int = 20,
) -> dict[str, Any]:
    """An event document: `n` participants p000.. named 会社N (or `names`), random
    want/must wishes, slot times from 13:00 in Asia/Tokyo."""
    rng = random.Random(seed)
    people = [
        {"id": f"p{i:03d}", "name": (names or {}).get(i, f"会社{i}"), "min": 1} for i in range(n)
    ]
    wishes: list[dict[str, Any]] = []
    seen: set[tuple[int, int]] = set()
    for i in range(n):
        for j in rng.sample(range(n), min(n, wishes_each + 1)):
            if j == i or (i, j) in seen or len(seen) > n * wishes_each:
                continue
            seen.add((i, j))
            level = rng.choice(["must", "want", "want"])
            wishes.append({"from": f"p{i:03d}", "to": f"p{j:03d}", "level": level})
    times = [
        (START + dt.timedelta(minutes=slot_minutes * k)).strftime("%Y-%m-%dT%H:%M")
        for k in range(slots)
    ]
    return {
        "slots": slots,
        "tables": tables,
        "participants": people,
        "wishes": wishes,
        "timezone": "Asia/Tokyo",
        "slot_minutes": slot_minutes,
        "slot_times": times,
    }
