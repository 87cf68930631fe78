"""Secrets and contact details never reach the logs: a real server logging at DEBUG (its
own access log and uvicorn's) is driven through keys, wrong keys, console passwords,
one-time password links, profiles with contact details, an import and refused input;
then every one of those values is looked for in the whole log."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from service.accounts import service as accounts
from service.store.db import transaction
from tests.support.browser import LiveServer

CONTACT = "tanaka.secret@contact-example.jp"
PHONE = "+81-3-9876-5432"
PASSWORD = "a very secret passphrase 42"
WRONG_PASSWORD = "a wrong secret passphrase 17"
WRONG_KEY = "cm_deadbeef_thisIsAWrongButSecretLookingKeyValue"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field"
    return found.group(1)


def test_no_secret_or_contact_detail_is_logged(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "srv", log_level="DEBUG")
    try:
        admin = {"Authorization": f"Bearer {server.admin_key}"}
        with httpx.Client(base_url=server.url, timeout=30) as c:
            profile = {
                "id": "jp-x",
                "name": "秘密工業",
                "kind": "firm",
                "country": "JP",
                "description": "precision gears",
                "contact": f"{CONTACT} {PHONE}",
            }
            assert c.put("/v1/profiles/jp-x", json=profile, headers=admin).is_success
            assert CONTACT in c.get("/v1/profiles/jp-x", headers=admin).text
            csv = f"id,name,kind,country,contact\njp-y,秘密商事,firm,JP,{CONTACT}\n"
            r = c.post(
                "/v1/profiles/import",
                files={"file": ("members.csv", csv.encode(), "text/csv")},
                headers=admin,
            )
            assert r.is_success, r.text
            bad = {**profile, "kind": "spaceship"}
            assert c.put("/v1/profiles/jp-x", json=bad, headers=admin).status_code == 422
            wrong = {"Authorization": f"Bearer {WRONG_KEY}"}
            assert c.get("/v1/profiles/jp-x", headers=wrong).status_code == 401

            with transaction(server.sessions) as s:
                user = accounts.create_user(s, email="secretuser@example.jp", role="organizer")
                token = accounts.issue_password_link(s, user)
            form = c.get(f"/console/set-password/{token}")
            assert form.status_code == 200, (form.status_code, form.text[:300])
            r = c.post(
                f"/console/set-password/{token}",
                data={
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "csrf_token": _csrf(form.text),
                },
            )
            assert r.status_code in (200, 303), r.text
        for password in (WRONG_PASSWORD, PASSWORD):  # a new browser each time
            with httpx.Client(base_url=server.url, timeout=30) as b:
                page = b.get("/console/sign-in")
                b.post(
                    "/console/sign-in",
                    data={
                        "email": "secretuser@example.jp",
                        "password": password,
                        "csrf_token": _csrf(page.text),
                    },
                )
    finally:
        server.stop()
    log = (tmp_path / "srv" / "server.log").read_text(errors="replace")
    assert '"request"' in log or "request" in log  # the access log was on
    for secret in (
        server.admin_key,
        WRONG_KEY,
        PASSWORD,
        WRONG_PASSWORD,
        token,
        CONTACT,
        PHONE,
        "secretuser@example.jp",
    ):
        assert secret not in log, f"{secret[:12]}... found in the server log"
