"""The admin's audit log page: entries newest first with who, what, result and where;
filters kept in the URL; refused attempts marked; admins only. In a real Chromium too."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import shot
from tests.support.console import NASTY, Console
from tests.support.samples import SAMPLE


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr id="audit-(\d+)"', html)


def test_the_audit_page_lists_filters_and_pages(console: Console) -> None:
    api = console.api
    assert api.put("/v1/profiles/it-1", json=SAMPLE[1], headers=api.h("member")).status_code == 403
    nasty = {**SAMPLE[0], "name": NASTY}
    assert api.put("/v1/profiles/jp-1", json=nasty, headers=api.h("organizer")).is_success
    admin = console.signed_in(console.user("admin"))

    page = admin.get("/console/admin/audit")
    assert page.status_code == 200
    assert "/v1/profiles/jp-1" in page.text and "/v1/profiles/it-1" in page.text
    assert "<script>" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    everything = _rows(page.text)
    assert everything == sorted(everything, key=int, reverse=True)

    failed = admin.get("/console/admin/audit", params={"failed": "1"})
    assert len(_rows(failed.text)) == 1 and 'class="has-error"' in failed.text
    assert "/v1/profiles/it-1" in failed.text
    only = admin.get("/console/admin/audit", params={"path": "it-1", "method": "PUT"})
    assert len(_rows(only.text)) == 2 and 'value="it-1"' in only.text  # the fixture's, ours
    none = admin.get("/console/admin/audit", params={"since": "2999-01-01"})
    assert _rows(none.text) == []
    assert admin.get("/console/admin/audit", params={"since": "yesterday"}).status_code == 400

    for _i in range(55):  # a second page
        api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=api.h("admin"))
    first = admin.get("/console/admin/audit")
    older = re.search(r'href="/console/admin/audit(\?before=\d+)"', first.text)
    assert older is not None and len(_rows(first.text)) == 50
    second = admin.get("/console/admin/audit" + older.group(1))
    assert set(_rows(first.text)).isdisjoint(_rows(second.text)) and _rows(second.text)

    for role, kwargs in (("organizer", {}), ("member", {"profile_id": "jp-1"})):
        client = console.signed_in(console.user(role, **kwargs))
        assert client.get("/console/admin/audit").status_code == 403
    assert console.client().get("/console/admin/audit").status_code == 303


@pytest.mark.browser
def test_an_admin_filters_the_audit_log_in_a_browser(live_server: Any, new_page: Any) -> None:
    from playwright.sync_api import expect

    headers = {"Authorization": f"Bearer {live_server.admin_key}"}
    import httpx

    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as c:
        c.put("/v1/profiles/jp-1", json=SAMPLE[0])
        c.delete("/v1/profiles/no-such-profile")
    email, password = live_server.user("admin", name="監査 一郎")
    page = new_page()
    page.goto("/console/sign-in")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.get_by_role("link", name="監査ログ").first.click()
    expect(page.get_by_role("heading", name="監査ログ", level=1)).to_be_visible()
    page.get_by_label("操作（ルートの先頭）").fill("/v1/profiles")
    page.get_by_label("拒否・失敗のみ（400以上）").check()
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile(r"route=%2Fv1%2Fprofiles.*failed=1"))
    rows = page.locator("table.admin-audit tbody tr")
    expect(rows.first).to_contain_text("/v1/profiles/no-such-profile")
    for i in range(rows.count()):
        status = rows.nth(i).locator("td.num").inner_text()
        assert int(status) >= 400
    shot(page, "admin-audit-ja")
