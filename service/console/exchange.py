"""The international-exchange pages (organizers and admins): a search for overseas
counterparts, and shortlists of candidates (notes, spreadsheet exports, sent to an event
as its participants).

- GET  /console/exchange/search                         the search form and its results
- POST /console/exchange/shortlists/add                 chosen results -> a (new) list
- GET  /console/exchange/shortlists                     the viewer's lists; POST: a new one
- GET  /console/exchange/shortlists/{id}                a list: candidates, notes, exports,
                                                        send to an event
- POST .../{id}/rename, GET|POST .../{id}/delete (a confirmation first)
- POST .../{id}/entries/{entry}/note, .../{entry}/remove
- GET  .../{id}/export.csv, .../{id}/export.xlsx
- POST .../{id}/send                                    -> the event's participants

The search is the API's POST /v1/search (the same checks, `engine.search_text` with the
same arguments); the lists are `service.shortlists`, whose rules (own lists; admins all)
are the events' rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.codes import COUNTRIES
from models.events.model import DEFAULT_GROUP
from models.matching import Purpose
from models.profile import KINDS
from service.console import i18n, pages
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.member import mark_segments, reason_items
from service.console.messages.exchange import FREQUENT_COUNTRIES
from service.console.pages import ConsoleRoute, render
from service.deps import EngineDep, SessionDep, SettingsDep
from service.errors import NotFound, ValidationFailed
from service.events import service as events
from service.events import setup
from service.io import spreadsheets
from service.matching import service as matching
from service.matching.schemas import MAX_QUERY_TEXT
from service.matching.schemas import render as render_matches
from service.shortlists import service as shortlists

router = APIRouter(prefix="/exchange", route_class=ConsoleRoute)

Staff = Annotated[Viewer, require_role("admin", "organizer")]
"""Exchange staff work with the organizer role (admins may do everything)."""

pages.NAV.extend(
    [
        pages.NavItem("exchange.nav.search", "/console/exchange/search", ("admin", "organizer")),
        pages.NavItem(
            "exchange.nav.shortlists", "/console/exchange/shortlists", ("admin", "organizer")
        ),
    ]
)

PURPOSES: tuple[Purpose, ...] = ("overseas", "partner", "buyer", "academia")
K_CHOICES = (10, 20, 50)
MAX_FORM_ITEMS = 60
"""Ids, countries or kinds one form may send (the list's limits are the domain's)."""


# ---------------------------------------------------------------------------- search form


@dataclass
class SearchForm:
    text: str = ""
    countries: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    purpose: str = "overseas"
    from_country: str = "JP"
    k: int = 20
    asked: bool = False
    """Whether a search was submitted (else the empty form is shown)."""

    def query(self) -> list[tuple[str, str]]:
        """The form as query parameters (to come back to these results)."""
        items = [("text", self.text), ("purpose", self.purpose)]
        items += [("country", c) for c in self.countries]
        items += [("kind", k) for k in self.kinds]
        items += [("from_country", self.from_country), ("k", str(self.k))]
        return items


def _country_code(value: str) -> str | None:
    code = value.strip().upper()
    return code if code in COUNTRIES else None


def parse_search(values: Mapping[str, Sequence[str]]) -> tuple[SearchForm, dict[str, str]]:
    """The search form from query or form fields, and its errors (field -> message key).
    What was typed is kept as typed (cut to the limits) for the page to show again."""

    def one(name: str, default: str = "") -> str:
        got = values.get(name) or []
        return got[0] if got else default

    errors: dict[str, str] = {}
    form = SearchForm(asked="text" in values)
    form.text = one("text")[: MAX_QUERY_TEXT + 1]
    if form.asked and not form.text.strip():
        errors["text"] = "exchange.search.error.text_blank"
    elif len(form.text) > MAX_QUERY_TEXT:
        errors["text"] = "exchange.search.error.text_too_long"
    countries = [c for c in values.get("country", []) if c.strip()][:MAX_FORM_ITEMS]
    form.countries = [(_country_code(c) or c[:8]) for c in countries]
    if any(_country_code(c) is None for c in countries):
        errors["country"] = "exchange.search.error.country"
    form.kinds = [k[:40] for k in values.get("kind", []) if k][:MAX_FORM_ITEMS]
    if any(k not in KINDS for k in form.kinds):
        errors["kind"] = "exchange.search.error.kind"
    form.purpose = one("purpose", "overseas")[:20]
    if form.purpose not in PURPOSES:
        errors["purpose"] = "exchange.search.error.purpose"
    raw_from = one("from_country", "JP" if not form.asked else "").strip()
    form.from_country = (_country_code(raw_from) or raw_from[:8]) if raw_from else ""
    if raw_from and _country_code(raw_from) is None:
        errors["from_country"] = "exchange.search.error.country"
    raw_k = one("k", "20").strip()
    form.k = int(raw_k) if raw_k.isdigit() and len(raw_k) < 5 else 0
    if form.k not in K_CHOICES:
        errors["k"] = "exchange.search.error.k"
        form.k = 20
    return form, errors


# ---------------------------------------------------------------------------- highlighting


def marked(text: str, detail: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """A reason's text in pieces, those that name the items that meet (the reason's
    detail: the query's and the candidate's items, shared values) flagged for <mark>,
    cut as the member pages cut theirs (`member.mark_segments`). The template escapes
    every piece."""
    return [(piece.text, piece.mark) for piece in mark_segments(text, reason_items(detail))]


def _results(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's result shape, each reason with its pieces for highlighting."""
    for item in found:
        item["marked"] = [marked(r["text"], r.get("detail") or {}) for r in item["reasons"]]
    return found


# ---------------------------------------------------------------------------- pages


def _countries(lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(frequent partners, all the others) as (code, name in `lang`), by name."""
    t = i18n.translator(lang)

    def named(codes: Sequence[str]) -> list[tuple[str, str]]:
        return sorted(((c, t(f"exchange.country.{c}")) for c in codes), key=lambda x: x[1])

    frequent = set(FREQUENT_COUNTRIES)
    return named(FREQUENT_COUNTRIES), named([c for c in COUNTRIES if c not in frequent])


def _search_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    form: SearchForm,
    errors: dict[str, str],
    *,
    status: int = 200,
    add_errors: dict[str, str] | None = None,
    add_values: dict[str, Any] | None = None,
) -> HTMLResponse:
    lang = i18n.negotiate(request)
    results: list[dict[str, Any]] | None = None
    if form.asked and not errors:
        ready = matching.require_ready(engine)
        k, countries, searcher = matching.text_query(
            form.text, form.k, settings.max_k, form.countries or None, form.from_country or None
        )
        purpose = cast(Purpose, form.purpose)  # (checked in parse_search)
        found = ready.search_text(
            form.text,
            purpose,
            kinds=form.kinds or None,
            countries=countries,
            country=searcher,
            k=k,
            lang="ja" if lang == "ja" else "en",
            diversity=0.0,
        )
        results = _results(render_matches(found))
    frequent, others = _countries(lang)
    if errors:
        status = 400
    return render(
        request,
        "exchange_search.html",
        status,
        form=form,
        errors=errors,
        results=results,
        frequent_countries=frequent,
        other_countries=others,
        chosen_countries=[
            name for code, name in [*frequent, *others] if code in set(form.countries)
        ],
        all_countries=sorted([*frequent, *others], key=lambda x: x[1]),
        kinds=KINDS,
        purposes=PURPOSES,
        k_choices=K_CHOICES,
        lists=shortlists.listing(session, viewer.principal),
        add_errors=add_errors or {},
        add=add_values or {"shortlist": "", "new_name": "", "chosen": []},
        back=urlencode(form.query()),
    )


def _fields(request: Request) -> dict[str, list[str]]:
    return {k: request.query_params.getlist(k) for k in request.query_params}


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    viewer: Staff,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    form, errors = parse_search(_fields(request))
    return _search_page(request, viewer, session, engine, settings, form, errors)


FormText = Annotated[str, Form()]
FormList = Annotated[list[str], Form()]


def _validation_codes(
    exc: ValidationFailed, field_map: Mapping[str, str], fallback: str = "exchange.error.invalid"
) -> dict[str, str]:
    """A domain ValidationFailed as form errors (form field -> message key): its errors'
    `code`s (service.shortlists), else `fallback` (e.g. an event the result would break)."""
    out: dict[str, str] = {}
    for e in exc.extra.get("errors", []):
        code = e.get("code")
        name = field_map.get(str(e.get("field")), field_map.get("*", "form"))
        out.setdefault(name, f"exchange.error.{code}" if code else fallback)
    return out or {field_map.get("*", "form"): fallback}


@router.post("/shortlists/add", response_class=HTMLResponse)
def add_to_shortlist(
    request: Request,
    viewer: Staff,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    profile_id: FormList = [],  # noqa: B006 - FastAPI copies defaults
    shortlist: FormText = "",
    new_name: FormText = "",
    text: FormText = "",
    country: FormList = [],  # noqa: B006
    kind: FormList = [],  # noqa: B006
    purpose: FormText = "overseas",
    from_country: FormText = "",
    k: FormText = "20",
) -> Response:
    """Chosen search results onto a list (an existing one, or a new one named here); on
    bad input the search page again, with the same results and the boxes still ticked."""
    chosen = [p[:200] for p in profile_id[:MAX_FORM_ITEMS] if p.strip()]
    target = shortlist.strip()[:20]
    new_name = new_name[: shortlists.MAX_NAME + 1]
    add_values = {"shortlist": target, "new_name": new_name, "chosen": chosen}
    errors: dict[str, str] = {}
    fields = {"profile_id": "profile_id", "name": "new_name", "*": "shortlist"}
    pk = 0
    try:
        # Every check before the first write: a new list is made only with its candidates.
        wanted = shortlists.check_candidates(session, chosen)
        if target == "new" or (target == "" and new_name.strip()):
            pk = shortlists.create(session, viewer.principal, new_name).pk
        elif target.isdigit() and len(target) < 10:
            pk = shortlists.get(session, viewer.principal, int(target)).pk
        else:
            errors["shortlist"] = "exchange.add.error.choose_list"
        if pk:
            done = shortlists.add(session, viewer.principal, pk, wanted)
    except ValidationFailed as exc:
        errors = _validation_codes(exc, fields)
    except NotFound:
        errors["shortlist"] = "exchange.add.error.choose_list"
    if errors:
        form, search_errors = parse_search(
            {
                "text": [text],
                "country": country,
                "kind": kind,
                "purpose": [purpose],
                "from_country": [from_country],
                "k": [k],
            }
        )
        return _search_page(
            request,
            viewer,
            session,
            engine,
            settings,
            form,
            search_errors,
            status=400,
            add_errors=errors,
            add_values=add_values,
        )
    query = urlencode({"added": len(done.added), "already": len(done.already)})
    return RedirectResponse(f"/console/exchange/shortlists/{pk}?{query}", status_code=303)


# ---------------------------------------------------------------------------- lists


def _pk(value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise ConsoleProblem(404, "error.404")
    return int(value)


@router.get("/shortlists", response_class=HTMLResponse)
def shortlists_page(
    request: Request, viewer: Staff, session: SessionDep, deleted: str = ""
) -> Response:
    return _lists_page(request, viewer, session, deleted=deleted[:200])


def _lists_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    name: str = "",
    deleted: str = "",
) -> HTMLResponse:
    return render(
        request,
        "exchange_shortlists.html",
        status,
        lists=shortlists.listing(session, viewer.principal),
        errors=errors or {},
        name=name,
        deleted=deleted,
    )


@router.post("/shortlists", response_class=HTMLResponse)
def create_shortlist(
    request: Request, viewer: Staff, session: SessionDep, name: FormText = ""
) -> Response:
    name = name[: shortlists.MAX_NAME + 1]
    try:
        row = shortlists.create(session, viewer.principal, name)
    except ValidationFailed as exc:
        errors = _validation_codes(exc, {"name": "name", "*": "name"})
        return _lists_page(request, viewer, session, status=400, errors=errors, name=name)
    return RedirectResponse(f"/console/exchange/shortlists/{row.pk}", status_code=303)


# ---------------------------------------------------------------------------- one list


@dataclass
class DetailState:
    """What a re-rendered detail page keeps: errors by form, and what was typed."""

    rename_errors: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    note_errors: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    send_errors: dict[str, str] = field(default_factory=dict)
    send: dict[str, str] = field(default_factory=dict)


def _sent_notice(
    session: SessionDep, viewer: Viewer, params: Mapping[str, str]
) -> dict[str, Any] | None:
    """The outcome of a send, from the redirect's query, with the event as it is now
    (only an event the viewer may see)."""
    event_id = params.get("sent", "")
    if not event_id:
        return None
    try:
        row = events.get(session, viewer.principal, event_id[:100])
    except NotFound:
        return None

    def count(name: str) -> int:
        value = params.get(name, "0")
        return int(value) if value.isdigit() and len(value) < 7 else 0

    return {
        "event": row.name,
        "participants": len(row.data.get("participants") or []),
        "added": count("sent_added"),
        "skipped": count("sent_skipped"),
        "missing": count("sent_missing"),
        "lonely": params.get("lonely") == "1",
        "group": params.get("group", "")[:64],
    }


def _detail_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    pk: int,
    *,
    status: int = 200,
    state: DetailState | None = None,
) -> HTMLResponse:
    state = state or DetailState()
    params = request.query_params
    if not state.send and params.get("sent"):  # the next send goes where the last one went
        state.send = {"event_id": params["sent"][:100], "group": params.get("group", "")[:64]}
    row = shortlists.get(session, viewer.principal, pk)
    items = shortlists.entries(session, viewer.principal, pk)
    own_events = events.listing(session, viewer.principal)
    groups = sorted({g for e in own_events for g in setup.groups_of(e.data)} | {DEFAULT_GROUP})
    return render(
        request,
        "exchange_shortlist.html",
        status,
        shortlist=row,
        owner=shortlists.key_name(session, row.owner_key),
        own=row.owner_key == viewer.principal.key_pk,
        entries=items,
        added_by=shortlists.added_by_names(session, items),
        events=[
            {"id": e.id, "name": e.name, "participants": len(e.data.get("participants") or [])}
            for e in own_events
        ],
        groups=groups[:100],
        state=state,
        added=params.get("added"),
        already=params.get("already"),
        renamed=params.get("renamed") == "1",
        noted=params.get("noted", ""),
        removed=params.get("removed", "")[:200],
        sent=_sent_notice(session, viewer, params),
        export_base=f"/console/exchange/shortlists/{pk}/export",
    )


@router.get("/shortlists/{shortlist_id}", response_class=HTMLResponse)
def shortlist_page(
    request: Request, shortlist_id: str, viewer: Staff, session: SessionDep
) -> Response:
    return _detail_page(request, viewer, session, _pk(shortlist_id))


@router.post("/shortlists/{shortlist_id}/rename", response_class=HTMLResponse)
def rename_shortlist(
    request: Request, shortlist_id: str, viewer: Staff, session: SessionDep, name: FormText = ""
) -> Response:
    pk = _pk(shortlist_id)
    name = name[: shortlists.MAX_NAME + 1]
    try:
        shortlists.rename(session, viewer.principal, pk, name)
    except ValidationFailed as exc:
        state = DetailState(rename_errors=_validation_codes(exc, {"*": "name"}), name=name)
        return _detail_page(request, viewer, session, pk, status=400, state=state)
    return RedirectResponse(f"/console/exchange/shortlists/{pk}?renamed=1", status_code=303)


@router.get("/shortlists/{shortlist_id}/delete", response_class=HTMLResponse)
def delete_confirm(
    request: Request, shortlist_id: str, viewer: Staff, session: SessionDep
) -> Response:
    pk = _pk(shortlist_id)
    row = shortlists.get(session, viewer.principal, pk)
    count = len(shortlists.entries(session, viewer.principal, pk))
    return render(request, "exchange_delete.html", shortlist=row, count=count)


@router.post("/shortlists/{shortlist_id}/delete")
def delete_shortlist(shortlist_id: str, viewer: Staff, session: SessionDep) -> Response:
    pk = _pk(shortlist_id)
    name = shortlists.get(session, viewer.principal, pk).name
    shortlists.delete(session, viewer.principal, pk)
    return RedirectResponse(
        "/console/exchange/shortlists?" + urlencode({"deleted": name}), status_code=303
    )


@router.post("/shortlists/{shortlist_id}/entries/{entry_id}/note", response_class=HTMLResponse)
def edit_note(
    request: Request,
    shortlist_id: str,
    entry_id: str,
    viewer: Staff,
    session: SessionDep,
    note: FormText = "",
) -> Response:
    pk, entry_pk = _pk(shortlist_id), _pk(entry_id)
    note = note[: shortlists.MAX_NOTE + 1]
    try:
        shortlists.set_note(session, viewer.principal, pk, entry_pk, note)
    except ValidationFailed as exc:
        code = _validation_codes(exc, {"*": "note"})["note"]
        state = DetailState(note_errors={entry_pk: code}, notes={entry_pk: note})
        return _detail_page(request, viewer, session, pk, status=400, state=state)
    return RedirectResponse(
        f"/console/exchange/shortlists/{pk}?noted={entry_pk}#entry-{entry_pk}", status_code=303
    )


@router.post("/shortlists/{shortlist_id}/entries/{entry_id}/remove")
def remove_entry(shortlist_id: str, entry_id: str, viewer: Staff, session: SessionDep) -> Response:
    pk, entry_pk = _pk(shortlist_id), _pk(entry_id)
    profile_id = shortlists.remove(session, viewer.principal, pk, entry_pk)
    return RedirectResponse(
        f"/console/exchange/shortlists/{pk}?" + urlencode({"removed": profile_id}),
        status_code=303,
    )


def _download(data: bytes, media_type: str, name: str, ext: str, pk: int) -> Response:
    disposition = spreadsheets.content_disposition(name, f"shortlist-{pk}.{ext}")
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/shortlists/{shortlist_id}/export.csv")
def export_csv(shortlist_id: str, viewer: Staff, session: SessionDep) -> Response:
    pk = _pk(shortlist_id)
    row, rows = shortlists.export_rows(session, viewer.principal, pk, viewer.time_zone)
    data = spreadsheets.csv_bytes(shortlists.EXPORT_HEADER, rows)
    return _download(data, spreadsheets.CSV_MEDIA_TYPE, row.name, "csv", pk)


@router.get("/shortlists/{shortlist_id}/export.xlsx")
def export_xlsx(shortlist_id: str, viewer: Staff, session: SessionDep) -> Response:
    pk = _pk(shortlist_id)
    row, rows = shortlists.export_rows(session, viewer.principal, pk, viewer.time_zone)
    data = spreadsheets.xlsx_bytes(shortlists.EXPORT_HEADER, rows, title=row.name)
    return _download(data, spreadsheets.XLSX_MEDIA_TYPE, row.name, "xlsx", pk)


@router.post("/shortlists/{shortlist_id}/send", response_class=HTMLResponse)
def send_to_event(
    request: Request,
    shortlist_id: str,
    viewer: Staff,
    session: SessionDep,
    event_id: FormText = "",
    group: FormText = "",
) -> Response:
    pk = _pk(shortlist_id)
    event_id, group = event_id.strip()[:100], group[:100]
    errors: dict[str, str] = {}
    if not event_id:
        errors["event_id"] = "exchange.send.error.choose_event"
    else:
        try:
            outcome = shortlists.send_to_event(session, viewer.principal, pk, event_id, group)
        except ValidationFailed as exc:
            errors = _validation_codes(
                exc, {"group": "group", "*": "event_id"}, "exchange.send.error.event_invalid"
            )
        except NotFound:
            # the list itself (then a 404 page), or an event the viewer may not see
            shortlists.get(session, viewer.principal, pk)
            errors["event_id"] = "exchange.send.error.choose_event"
    if errors:
        state = DetailState(send_errors=errors, send={"event_id": event_id, "group": group})
        return _detail_page(request, viewer, session, pk, status=400, state=state)
    query = urlencode(
        {
            "sent": outcome.event_id,
            "sent_added": len(outcome.added),
            "sent_skipped": len(outcome.skipped),
            "sent_missing": len(outcome.missing),
            "lonely": "1" if outcome.group_meets_no_one else "0",
            "group": group.strip() or DEFAULT_GROUP,
        }
    )
    return RedirectResponse(f"/console/exchange/shortlists/{pk}?{query}", status_code=303)
