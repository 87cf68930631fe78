"""The home page (service.console.routes.home): what each role can do, each item a link to
the page that does it, and every such page opens for that role; the header's order."""

from __future__ import annotations

import re

import pytest

from service.console import routes
from service.console.pages import NAV
from tests.support.console import Console
from tests.support.samples import SAMPLE


@pytest.mark.parametrize("role", ["admin", "organizer", "member"])
def test_each_thing_a_role_can_do_links_to_a_page_it_may_open(console: Console, role: str) -> None:
    profile = SAMPLE[0]["id"] if role == "member" else None
    client = console.signed_in(console.user(role, profile_id=profile))
    home = client.get("/console")
    assert home.status_code == 200
    can = home.text.split('class="checklist"', 1)[1].split("</ul>", 1)[0]
    links = re.findall(r'<a href="(/console[^"]*)"', can)
    assert len(links) == len(routes.CAN[role])  # every item a link
    for href in links:
        assert client.get(href).status_code == 200, href


def test_the_header_lists_the_shell_first_and_the_admin_last() -> None:
    keys = [item.key for item in NAV]
    assert keys[:2] == ["nav.home", "nav.my_profile"]
    areas = [k.split(".")[0] if not k.startswith("nav.organizer") else "organizer" for k in keys]
    order = [a for i, a in enumerate(areas) if a not in areas[:i]]
    assert order == ["nav", "member", "organizer", "exchange", "admin"]


def test_every_page_title_is_plain_text() -> None:
    """A title block holds words only (markup pasted into one once rendered a whole table
    into the browser tab's title)."""
    from service.console.pages import STATIC_DIR

    templates = STATIC_DIR.parent / "templates"
    block = re.compile(r"{% block title %}(.*?){% endblock %}", re.S)
    found = 0
    for path in sorted(templates.glob("*.html")):
        for title in block.findall(path.read_text(encoding="utf-8")):
            found += 1
            assert "<" not in title and "\n" not in title, path.name
    assert found > 20
