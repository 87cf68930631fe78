"""The programme report in a real Chromium against a real server: an organizer opens the
report of tests/support/reports.py, sees the tables and the two charts that the vendored
Chart.js draws from the page's figures (under the console's script policy, with no
error in the page), regroups it, downloads the CSV and a PNG, changes a target in the
programme's form and sees the attainment follow. Screenshots go to
tests/.artifacts/screens/reports-*.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.accounts import service as accounts
from tests.support.browser import shot
from tests.support.reports import seed_programme

pytestmark = pytest.mark.browser


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    _expect()(page.get_by_role("heading", level=1)).to_contain_text("ようこそ")


def _seed(server: Any, email: str, program: str = "TAMA") -> None:
    from service.store.db import transaction

    with transaction(server.sessions) as s:
        user = accounts.find_user(s, email)
        assert user is not None
        caller = accounts.principal_for_user(user)
    seed_programme(server.sessions, caller, program)


def _chart_values(page: Any, canvas: str) -> Any:
    return page.evaluate(
        "(id) => window.Chart.getChart(id).data.datasets.map((d) => [d.label, d.data])",
        canvas,
    )


def test_an_organizer_reads_the_programme_report(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    # an office of its own: the session's server holds other tests' events, and an
    # office's report counts all of its events
    email, password = live_server.user("organizer", name="多摩クラスター事務局", office="tama")
    _seed(live_server, email)
    page = new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    def on_console(message: Any) -> None:
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):  # (the console has none)
            problems.append(f"{message.text} {where}")

    page.on("console", on_console)
    _sign_in(page, email, password)
    page.get_by_role("link", name="事業報告").first.click()
    page.get_by_label("年度", exact=True).select_option("2026")
    page.get_by_role("button", name="表示").click()
    expect(page.locator("#chart-targets")).to_have_attribute("data-drawn", "1")
    expect(page.locator("#chart-groups")).to_have_attribute("data-drawn", "1")
    # the charts hold the page's figures: the year before, this year, the targets
    assert _chart_values(page, "chart-targets") == [
        ["前年度", [1, 0, 0, 0]],
        ["実績", [2, 2, 1, 0]],
        ["目標", [4, 2, 2, 1]],
    ]
    row = page.locator('#targets-table tr[data-key="meetings_held"] td')
    expect(row).to_have_text(["1", "2", "4", "50.0%"])
    expect(page.locator("#no-show-rate")).to_have_text("33.3%")
    shot(page, "reports-ja")
    # regrouped by pairs of kinds
    page.get_by_label("集計単位").select_option("kind_pair")
    page.get_by_role("button", name="表示").click()
    expect(page.locator("#groups-table tbody th").first).to_have_text("企業–商社")
    labels = page.evaluate("() => window.Chart.getChart('chart-groups').data.labels")
    # p1–p2 and p2–p4 are a firm and a trading company, p1–p3 a firm and a university
    assert labels == ["企業–商社", "企業–大学"]
    # downloads
    with page.expect_download() as info:
        page.get_by_role("link", name="表（CSV）").click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "firm–trading_company" in data.decode("utf-8-sig")
    with page.expect_download() as info:
        page.get_by_role("link", name="目標と実績のグラフ（PNG）").click()
    assert Path(info.value.path()).read_bytes().startswith(b"\x89PNG")
    # a target changed in the programme's form
    page.get_by_role("link", name="事業と目標の設定").click()
    page.get_by_role("link", name="TAMA").click()
    page.get_by_label("成約件数").fill("4")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました。")
    shot(page, "reports-programs-ja")
    page.goto("/console/reports?fiscal_year=2026&program=TAMA&lang=en")
    expect(page.locator('#targets-table tr[data-key="contracts"] td')).to_have_text(
        ["0", "1", "4", "25.0%"]
    )
    expect(page.locator("#chart-targets")).to_have_attribute("data-drawn", "1")
    shot(page, "reports-en")
    assert problems == []


def test_a_member_firm_reads_its_own_results(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    organizer, _ = live_server.user("organizer")
    _seed(live_server, organizer, program="KANSAI")
    email, password = live_server.user("member", profile_id="jp-1", name="精密歯車 営業部")
    page = new_page()
    _sign_in(page, email, password)
    page.get_by_role("link", name="商談の成果").click()
    page.get_by_label("年度", exact=True).select_option("2026")
    page.get_by_role("button", name="表示").click()
    row = page.locator("#mine-table tbody tr").filter(has_text="春の商談会").first
    expect(row.locator("td").nth(1)).to_have_text("1")  # held, by its own record
    shot(page, "reports-member-ja")
