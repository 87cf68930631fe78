"""Languages of the console: Japanese and English message catalogs, and which one a
request gets: `?lang=` (remembered in the `cm_lang` cookie), else the cookie, else
Accept-Language (the better of ja and en; other languages get en), else Japanese.

Messages are plain text with `{name}` fields (str.format); templates escape the result,
so a message never carries markup. Every key exists in both catalogs (a test checks it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request

from service.console.messages import EN, JA

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "ja"
LANG_COOKIE = "cm_lang"
CATALOGS: dict[str, dict[str, str]] = {"ja": JA, "en": EN}


def parse_accept_language(header: str) -> Lang | None:
    """The catalog the header prefers (by q-value, then order), or None if it names
    neither; a header naming only other languages gets English."""
    best: tuple[float, int, Lang] | None = None
    named_any = False
    for order, part in enumerate(header.split(",")[:30]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        named_any = True
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-", 1)[0]
        if primary in LANGS and q > 0 and (best is None or (q, -order) > (best[0], -best[1])):
            best = (q, order, "ja" if primary == "ja" else "en")
    if best is not None:
        return best[2]
    return "en" if named_any else None


def negotiate(request: Request) -> Lang:
    cached: Lang | None = getattr(request.state, "console_lang", None)
    if cached:
        return cached
    lang: Lang | None = None
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGS:
            lang = candidate
            break
    if lang is None:
        lang = parse_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG
    request.state.console_lang = lang
    return lang


def translate(lang: str, key: str, **params: Any) -> str:
    message = CATALOGS.get(lang, EN).get(key) or EN.get(key) or key
    return message.format(**params) if params else message


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    return t


def format_datetime(value: dt.datetime | str | None, lang: str, time_zone: str) -> str:
    """A moment in the viewer's (later: the event's) time zone, with the zone's name."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    name = local.tzname() or time_zone
    if lang == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M} ({name})"
    return f"{local.day} {local:%b %Y, %H:%M} ({name})"
