"""The message catalogs are complete in both languages, and every key used exists."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from service.console import i18n, routes
from service.console.messages import EN, JA
from service.console.pages import NAV, TEMPLATES_DIR

SERVICE = Path(__file__).resolve().parents[3] / "service"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_both_catalogs_have_the_same_keys_and_fields() -> None:
    assert set(JA) == set(EN)
    for key in JA:
        assert set(PLACEHOLDER.findall(JA[key])) == set(PLACEHOLDER.findall(EN[key])), key
        assert JA[key].strip() and EN[key].strip(), key


def test_every_key_named_in_templates_and_code_exists() -> None:
    """Keys in templates (`t("...")`), navigation, the home page's lists, and the codes
    the console and accounts code raise or render (a page code `x` needs `x.title` and
    `x.body`); keys built at run time are listed from their sources."""
    from models.profile import KINDS
    from service.auth import ROLES
    from service.console.pages import _STATUS_CODES

    used: set[str] = set()
    for template in TEMPLATES_DIR.glob("*.html"):
        # (a prefix such as t("role." ~ viewer.role) is covered by the run-time lists)
        found = re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", template.read_text())
        used |= {k for k in found if not k.endswith(".")}
    used |= {k for keys in routes.CAN.values() for k, _ in keys} | {item.key for item in NAV}
    for path in [*(SERVICE / "console").glob("*.py"), *(SERVICE / "accounts").glob("*.py")]:
        if path.name != "messages.py":
            pattern = r"""["']((?:error|sign_in|password|token|user|field|home)\.[a-z0-9_.]+)["']"""
            used |= {k for k in re.findall(pattern, path.read_text()) if not k.endswith(".html")}
    used |= {f"sign_in.error.{p}" for p in ("bad_credentials", "disabled", "throttled")}
    used |= {f"error.{status}" for status in (*_STATUS_CODES, 500)}
    used |= {f"kind.{k}" for k in KINDS} | {f"role.{r}" for r in ROLES}
    missing = sorted(
        k for k in used if k not in EN and not (f"{k}.title" in EN and f"{k}.body" in EN)
    )
    assert not missing


def test_every_profile_kind_has_a_label() -> None:
    from models.profile import KINDS

    assert all(f"kind.{k}" in JA for k in KINDS)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja", "ja"),
        ("en-GB", "en"),
        ("ja;q=0, en;q=0.1", "en"),
        ("de, it", "en"),
        ("*", "en"),
        ("", None),
        ("ja;q=abc, en", "en"),
        ("EN-us;q=0.5, JA-jp;q=0.6", "ja"),
    ],
)
def test_accept_language(header: str, expected: str | None) -> None:
    assert i18n.parse_accept_language(header) == expected


def test_dates_in_the_viewers_time_zone() -> None:
    moment = dt.datetime(2025, 3, 1, 0, 30, tzinfo=dt.UTC)
    assert i18n.format_datetime(moment, "ja", "Asia/Tokyo") == "2025年3月1日 09:30 (JST)"
    assert i18n.format_datetime(moment, "en", "Europe/Rome") == "1 Mar 2025, 01:30 (CET)"
    assert i18n.format_datetime("2025-03-01T00:30:00", "en", "Nowhere/Else").endswith("(UTC)")
    assert i18n.format_datetime(None, "en", "UTC") == ""
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert i18n.translate("ja", "home.greeting", name="{x}") == "ようこそ、{x} さん"
