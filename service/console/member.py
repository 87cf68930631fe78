"""The member firm's pages (see service/console/__init__.py, "Adding a page"), all under
/console/me/ and for the member role only (an organizer or an admin has no "own"
profile: they get the 403 page; they see profiles and events on their own pages).

    GET  /console/me/profile                      edit the member's own profile
    POST /console/me/profile                        (saved through the API's PUT service)
    GET  /console/me/matches?purpose=&country=&kind=   matches by purpose, with reasons
    GET  /console/me/search?q=&purpose=&country=&kind= free-text search
    GET  /console/me/events                       the events the member takes part in
    GET  /console/me/events/{id}                  an event: agenda, own wishes
    POST /console/me/events/{id}/wishes           send or change a wish (before the deadline)
    POST /console/me/events/{id}/wishes/remove    withdraw a wish

Results of matching and search are shown by `result_views` and the template macro
`member__results.html` (`results_list`), which other pages may reuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from models.codes import normalize_country
from models.events.model import DEFAULT_PRIORITY, LEVELS
from models.matching import PURPOSES, WEIGHTS, Lang, Purpose
from models.profile import KINDS, MAX_ITEM, Profile
from service.console import i18n, pages
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.pages import ConsoleRoute, render
from service.deps import EngineDep, SessionDep, SettingsDep
from service.engine import Match
from service.errors import BadRequest, NotFound, ValidationFailed
from service.events import agenda as member_events
from service.events import wishes as member_wishes
from service.events.agenda import Membership
from service.matching import service as matching
from service.matching.schemas import MAX_QUERY_TEXT
from service.profiles import service as profiles
from service.store.db import Session
from service.store.participation import ProfileCard, profile_cards

router = APIRouter(route_class=ConsoleRoute)

Member = Annotated[Viewer, require_role("member")]
"""A signed-in member firm (the API's own role check: a 403 page for anyone else)."""

pages.NAV.extend(
    [
        pages.NavItem("member.nav.matches", "/console/me/matches", roles=("member",)),
        pages.NavItem("member.nav.search", "/console/me/search", roles=("member",)),
        pages.NavItem("member.nav.events", "/console/me/events", roles=("member",)),
    ]
)

RESULTS_K = 20
MAX_FILTER_TEXT = 200


def _lang(request: Request) -> Lang:
    return i18n.negotiate(request)


def _own_profile_id(viewer: Viewer) -> str:
    if not viewer.profile_id or not viewer.principal.owns(viewer.profile_id):
        raise ConsoleProblem(403, "error.403")
    return viewer.profile_id


# ---------------------------------------------------------------------------- profile

TEXT_FIELDS = ("name", "name_en", "country", "region", "cluster", "website", "contact")
LIST_FIELDS = ("offers", "needs", "industries", "markets", "languages")
CODE_LIST_FIELDS = ("markets", "languages")
INT_FIELDS = ("employees", "founded")
FORM_ORDER = (
    "name",
    "name_en",
    "kind",
    "country",
    "region",
    "cluster",
    "description",
    "offers",
    "needs",
    "industries",
    "markets",
    "languages",
    "employees",
    "founded",
    "website",
    "contact",
)
_CODE_SEPARATORS = re.compile(r"[,，、\s]+")


class ProfileForm(BaseModel):
    """The edit form as sent (every field text; the Profile model validates)."""

    model_config = ConfigDict(extra="ignore")

    name: str = ""
    name_en: str = ""
    kind: str = ""
    country: str = ""
    region: str = ""
    cluster: str = ""
    description: str = ""
    offers: str = ""
    needs: str = ""
    industries: str = ""
    markets: str = ""
    languages: str = ""
    employees: str = ""
    founded: str = ""
    website: str = ""
    contact: str = ""


def profile_form_values(data: Mapping[str, Any]) -> dict[str, str]:
    """A stored profile as the form's texts (lists one item per line)."""
    out: dict[str, str] = {}
    for name in FORM_ORDER:
        value = data.get(name)
        if isinstance(value, list):
            out[name] = "\n".join(str(v) for v in value)
        else:
            out[name] = "" if value is None else str(value)
    return out


def profile_body(form: ProfileForm) -> dict[str, Any]:
    """The form as a profile document for the `Profile` model (what the API's PUT takes):
    empty optional fields are left unset, lists stay text (the model splits lines)."""
    values = form.model_dump()
    body: dict[str, Any] = {"name": values["name"], "description": values["description"]}
    for name in TEXT_FIELDS[1:]:
        if values[name].strip():
            body[name] = values[name]
    if values["kind"]:
        body["kind"] = values["kind"]
    for name in LIST_FIELDS:
        text = values[name]
        if name in CODE_LIST_FIELDS:
            text = _CODE_SEPARATORS.sub("\n", text)
        body[name] = text
    for name in INT_FIELDS:
        if values[name].strip():
            body[name] = values[name].strip()
    return body


_QUOTED = re.compile(r"'(.*)' is not")


def profile_errors(exc: ValidationError, lang: str) -> dict[str, str]:
    """One message per field, in the page's language, from the `Profile` model's errors
    (the reason from pydantic where there is no better one)."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("",)
        field = str(loc[0])
        if field not in FORM_ORDER or field in out:
            continue
        kind, ctx = error.get("type", ""), error.get("ctx") or {}
        message = str(error.get("msg", ""))
        detail = message.removeprefix("Value error, ")
        quoted = _QUOTED.search(detail)
        if kind in ("missing", "string_too_short") or (
            kind == "value_error" and "must not be empty" in message
        ):
            key, params = "member.error.required", {}
        elif kind == "string_too_long":
            key, params = "member.error.too_long", {"max": ctx.get("max_length", "")}
        elif kind == "too_long":
            key, params = "member.error.too_many", {"max": ctx.get("max_length", "")}
        elif kind in ("int_parsing", "int_from_float", "int_type"):
            key, params = "member.error.integer", {}
        elif kind == "greater_than_equal":
            key, params = "member.error.at_least", {"min": ctx.get("ge", "")}
        elif kind == "less_than_equal":
            key, params = "member.error.at_most", {"max": ctx.get("le", "")}
        elif kind == "literal_error":
            key, params = "member.error.choice", {}
        elif kind == "value_error" and field in ("country", "markets"):
            key, params = "member.error.country", {"detail": quoted[1] if quoted else detail}
        elif kind == "value_error" and field == "languages":
            key, params = "member.error.language", {"detail": quoted[1] if quoted else detail}
        elif kind == "value_error" and field in LIST_FIELDS and "longer than" in message:
            key, params = "member.error.item_too_long", {"max": MAX_ITEM}
        else:
            key, params = "member.error.other", {"detail": detail}
        out[field] = i18n.translate(lang, key, **params)
    return {name: out[name] for name in FORM_ORDER if name in out}


def _profile_page(
    request: Request,
    profile_id: str,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status: int = 200,
    saved: bool = False,
) -> HTMLResponse:
    return render(
        request,
        "member_profile.html",
        status,
        profile_id=profile_id,
        values=values,
        errors=errors,
        saved=saved,
        kinds=KINDS,
        labels={
            name: i18n.translate(_lang(request), f"member.field.{name}") for name in FORM_ORDER
        },
    )


@router.get("/me/profile", response_class=HTMLResponse)
def edit_profile_page(
    request: Request, viewer: Member, session: SessionDep, saved: str = ""
) -> Response:
    profile_id = _own_profile_id(viewer)
    row = profiles.get(session, profile_id)
    return _profile_page(request, profile_id, profile_form_values(row.data), {}, saved=saved == "1")


@router.post("/me/profile", response_class=HTMLResponse)
def edit_profile_submit(
    request: Request,
    viewer: Member,
    session: SessionDep,
    engine: EngineDep,
    form: Annotated[ProfileForm, Form()],
) -> Response:
    profile_id = _own_profile_id(viewer)
    stored = profiles.get(session, profile_id)  # (404 for a profile deleted meanwhile)
    # the form edits what the member wrote; what public lists said (registry) is kept
    body = {**profile_body(form), "registry": dict(stored.data.get("registry") or {})}
    try:
        Profile.model_validate({**body, "id": profile_id})
    except ValidationError as exc:
        errors = profile_errors(exc, _lang(request))
        return _profile_page(request, profile_id, form.model_dump(), errors, 400)
    # The API's PUT: the same rules (Principal.owns), the same write, the index follows.
    profiles.replace(session, engine, viewer.principal, profile_id, body)
    return RedirectResponse("/console/me/profile?saved=1", status_code=303)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Segment:
    text: str
    mark: bool


@dataclass(frozen=True)
class ReasonView:
    code: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class FeatureView:
    key: str
    value: float
    fraction: float


@dataclass(frozen=True)
class ResultView:
    rank: int
    id: str
    name: str
    name_en: str | None
    kind: str
    country: str | None
    score: float
    reasons: tuple[ReasonView, ...]
    features: tuple[FeatureView, ...]


EXTRA_FEATURES = ("need_offer", "offer_need", "lexical", "walk")


def mark_segments(text: str, needles: Iterable[str]) -> tuple[Segment, ...]:
    """`text` cut into plain and marked parts: each occurrence of a needle is marked
    (the longest needle first where several start at the same place)."""
    wanted = sorted({n for n in needles if n.strip()}, key=len, reverse=True)
    out: list[Segment] = []
    i = start = 0
    while i < len(text):
        hit = next((n for n in wanted if text.startswith(n, i)), None)
        if hit is None:
            i += 1
            continue
        if start < i:
            out.append(Segment(text[start:i], False))
        out.append(Segment(hit, True))
        i = start = i + len(hit)
    if start < len(text):
        out.append(Segment(text[start:], False))
    return tuple(out)


def reason_items(detail: Mapping[str, object]) -> list[str]:
    """The items a reason names (its detail: the query's and the candidate's items, shared
    values, partners): what `mark_segments` highlights."""
    found: list[str] = []
    for key in ("query_item", "candidate_item", "value"):
        value = detail.get(key)
        if isinstance(value, str):
            found.append(value)
    for key in ("values", "partners"):
        value = detail.get(key)
        if isinstance(value, list):
            found += [v for v in value if isinstance(v, str)]
    return found


def feature_keys(purpose: Purpose) -> list[str]:
    """The features a result's "why" shows: the purpose's weighted ones, then the item
    matches, wording and network."""
    keys = list(WEIGHTS[purpose])
    return keys + [k for k in EXTRA_FEATURES if k not in keys]


def result_views(matches: Sequence[Match], purpose: Purpose) -> list[ResultView]:
    """What the results macro shows of the engine's matches (as the API renders them:
    service.matching.schemas.render)."""
    keys = feature_keys(purpose)
    out = []
    for rank, m in enumerate(matches, 1):
        p, features = m.record.profile, m.scored.features
        out.append(
            ResultView(
                rank=rank,
                id=p.id,
                name=p.name,
                name_en=p.name_en if p.name_en and p.name_en != p.name else None,
                kind=p.kind,
                country=p.country,
                score=round(m.scored.score, 2) + 0.0,  # (never -0.00)
                reasons=tuple(
                    ReasonView(r.code, mark_segments(r.text, reason_items(r.detail)))
                    for r in m.reasons
                ),
                features=tuple(
                    FeatureView(k, round(features[k], 2), min(1.0, max(0.0, features[k])))
                    for k in keys
                    if k in features
                ),
            )
        )
    return out


@dataclass(frozen=True)
class Filters:
    purpose: str
    country: str
    kind: str


def check_filters(filters: Filters, lang: str) -> tuple[list[str] | None, dict[str, str]]:
    """(the country codes, errors by field in the page's language)."""
    errors: dict[str, str] = {}
    if filters.purpose not in PURPOSES:
        errors["purpose"] = i18n.translate(lang, "member.error.choice")
    if filters.kind and filters.kind not in KINDS:
        errors["kind"] = i18n.translate(lang, "member.error.choice")
    countries: list[str] = []
    if len(filters.country) > MAX_FILTER_TEXT:
        errors["country"] = i18n.translate(lang, "member.error.too_long", max=MAX_FILTER_TEXT)
    else:
        for code in _CODE_SEPARATORS.split(filters.country.strip()):
            if not code:
                continue
            try:
                countries.append(normalize_country(code))
            except ValueError:
                errors["country"] = i18n.translate(lang, "member.error.country", detail=code)
                break
    return (list(dict.fromkeys(countries)) or None), errors


def _results_page(
    request: Request,
    template: str,
    filters: Filters,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    results: list[ResultView] | None = None,
    **values: Any,
) -> HTMLResponse:
    return render(
        request,
        template,
        status,
        filters=filters,
        errors=errors or {},
        notice=notice,
        results=results,
        purposes=PURPOSES,
        kinds=KINDS,
        **values,
    )


@router.get("/me/matches", response_class=HTMLResponse)
def matches_page(
    request: Request,
    viewer: Member,
    engine: EngineDep,
    settings: SettingsDep,
    purpose: str = "partner",
    country: str = "",
    kind: str = "",
) -> Response:
    profile_id = _own_profile_id(viewer)
    filters = Filters(purpose, country, kind)
    lang = _lang(request)
    countries, errors = check_filters(filters, lang)
    page = "member_matches.html"
    if errors:
        return _results_page(request, page, filters, status=400, errors=errors)
    if not engine.ready:
        return _results_page(request, page, filters, notice="member.matches.not_ready")
    chosen: Purpose = filters.purpose  # type: ignore[assignment]
    try:
        # The API's checks, in its order (service.matching.routes.matches).
        record, k, countries = matching.profile_query(
            engine,
            viewer.principal,
            profile_id,
            chosen,
            k=min(RESULTS_K, settings.max_k),
            max_k=settings.max_k,
            country=countries,
        )
    except NotFound:
        return _results_page(request, page, filters, notice="member.matches.not_indexed")
    except BadRequest:  # overseas without the profile's country
        return _results_page(request, page, filters, notice="member.matches.needs_country")
    found = engine.matches_for(
        record,
        chosen,
        kinds=[filters.kind] if filters.kind else None,
        countries=countries,
        k=k,
        lang=lang,
    )
    return _results_page(request, page, filters, results=result_views(found, chosen))


@router.get("/me/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    viewer: Member,
    engine: EngineDep,
    settings: SettingsDep,
    q: str = "",
    purpose: str = "partner",
    country: str = "",
    kind: str = "",
) -> Response:
    profile_id = _own_profile_id(viewer)
    filters = Filters(purpose, country, kind)
    lang = _lang(request)
    countries, errors = check_filters(filters, lang)
    page = "member_search.html"
    if len(q) > MAX_QUERY_TEXT:
        errors = {
            "q": i18n.translate(lang, "member.search.too_long", max=MAX_QUERY_TEXT),
            **errors,
        }
    if errors:
        return _results_page(
            request, page, filters, status=400, errors=errors, q=q[:MAX_QUERY_TEXT]
        )
    if not q.strip():
        return _results_page(request, page, filters, q=q)
    if not engine.ready:
        return _results_page(request, page, filters, notice="member.matches.not_ready", q=q)
    chosen: Purpose = filters.purpose  # type: ignore[assignment]
    own = engine.record(profile_id)
    # An overseas search looks beyond the member's own country (as from_country does).
    home = own.profile.country if own is not None and chosen == "overseas" else None
    k, countries, home = matching.text_query(
        q, min(RESULTS_K, settings.max_k), settings.max_k, countries, home
    )
    found = engine.search_text(
        q,
        chosen,
        kinds=[filters.kind] if filters.kind else None,
        countries=countries,
        country=home,
        k=k,
        lang=lang,
    )
    return _results_page(request, page, filters, results=result_views(found, chosen), q=q)


# ---------------------------------------------------------------------------- events


def _clock(moment: dt.datetime) -> str:
    return f"{moment:%H:%M}"


def _day(moment: dt.datetime, lang: str) -> str:
    if lang == "ja":
        return f"{moment.year}年{moment.month}月{moment.day}日"
    return f"{moment.day} {moment:%b %Y}"


def event_when(m: Membership, lang: str) -> str | None:
    """The event's date and hours in its time zone, e.g. 2026年6月10日 13:00–16:20 (JST)."""
    start, end = member_events.first_start(m.event), member_events.last_end(m.event)
    if start is None or end is None:
        return None
    zone = start.tzname() or m.event.timezone
    if start.date() == end.date():
        return f"{_day(start, lang)} {_clock(start)}–{_clock(end)} ({zone})"
    return f"{_day(start, lang)} {_clock(start)} – {_day(end, lang)} {_clock(end)} ({zone})"


def _deadline(m: Membership, lang: str) -> str | None:
    deadline = m.event.wish_deadline
    return i18n.format_datetime(deadline, lang, m.event.timezone) if deadline else None


@dataclass(frozen=True)
class EventCard:
    id: str
    name: str
    venue: str
    when: str | None
    deadline: str | None
    open: bool
    scheduled: bool
    meetings: int


@router.get("/me/events", response_class=HTMLResponse)
def events_page(request: Request, viewer: Member, session: SessionDep) -> Response:
    lang = _lang(request)
    cards = []
    for m in member_events.my_events(session, viewer.principal):
        items = member_events.agenda(m)
        cards.append(
            EventCard(
                id=m.row.id,
                name=m.row.name,
                venue=m.event.venue,
                when=event_when(m, lang),
                deadline=_deadline(m, lang),
                open=member_wishes.is_open(m),
                scheduled=items is not None,
                meetings=len(items or []),
            )
        )
    return render(request, "member_events.html", events=cards)


@dataclass(frozen=True)
class Party:
    """A participant as the member sees it: a name, and its profile's card if any."""

    id: str
    name: str
    profile_id: str | None
    kind: str | None
    country: str | None


def _parties(m: Membership, cards: Mapping[str, ProfileCard]) -> dict[str, Party]:
    out = {}
    for p in m.event.participants:
        card = cards.get(p.profile_id or "")
        out[p.id] = Party(
            id=p.id,
            name=p.name or (card.name if card else p.id),
            profile_id=card.id if card else None,
            kind=card.kind if card else None,
            country=card.country if card else None,
        )
    return out


@dataclass(frozen=True)
class AgendaRow:
    time: str | None
    slot: int
    table: str | None
    partner: Party
    reason: str


@dataclass(frozen=True)
class WishRow:
    to: Party
    level: str
    priority: int
    placed: bool | None  # None: not scheduled yet


def _event_page(
    request: Request,
    session: Session,
    m: Membership,
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    lang = _lang(request)
    event = m.event
    ids = [p.profile_id for p in event.participants if p.profile_id]
    parties = _parties(m, profile_cards(session, ids))
    items = member_events.agenda(m)
    rows = None
    met: set[str] = set()
    if items is not None:
        rows = []
        for item in items:
            met.add(item.partner.id)
            partner = parties.get(item.partner.id) or Party(
                item.partner.id, item.partner.id, None, None, None
            )
            rows.append(
                AgendaRow(
                    time=f"{_clock(item.start)}–{_clock(item.end)}"
                    if item.start and item.end
                    else None,
                    slot=item.slot,
                    table=item.table_name or item.table,
                    partner=partner,
                    reason=item.reason,
                )
            )
    wishes = [
        WishRow(
            to=parties.get(w.target) or Party(w.target, w.target, None, None, None),
            level=w.level,
            priority=w.priority,
            placed=(w.target in met) if items is not None and w.level != "no" else None,
        )
        for w in member_wishes.my_wishes(m)
    ]
    targets = sorted(
        (parties[p.id] for p in member_wishes.targets(m)), key=lambda p: (p.name, p.id)
    )
    me = parties[m.me.id]
    return render(
        request,
        "member_event.html",
        status,
        event_id=m.row.id,
        name=m.row.name,
        venue=event.venue,
        when=event_when(m, lang),
        time_zone=event.timezone,
        deadline=_deadline(m, lang),
        open=member_wishes.is_open(m),
        me=me,
        agenda=rows,
        wishes=wishes,
        targets=targets,
        levels=LEVELS,
        form=form or {"target": "", "level": "want", "priority": str(DEFAULT_PRIORITY)},
        errors=errors or {},
        alert=alert,
        notice=notice,
    )


_NOTICES = {"saved": "member.wishes.saved", "removed": "member.wishes.removed"}


@router.get("/me/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, event_id: str, viewer: Member, session: SessionDep, done: str = ""
) -> Response:
    m = member_events.membership(session, viewer.principal, event_id)
    return _event_page(request, session, m, notice=_NOTICES.get(done))


def _wish_errors(exc: ValidationFailed, lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for error in exc.extra.get("errors", []):
        field = error.get("field", "level")
        field = field if field in ("target", "level", "priority") else "level"
        code = error.get("code")
        if code in ("organizer_set", "locked", "invalid"):
            text = i18n.translate(lang, f"member.wish.error.{code}", detail=error.get("reason"))
        else:
            text = i18n.translate(lang, f"member.wish.error.{field}")
        out.setdefault(field, text)
    return out


@router.post("/me/events/{event_id}/wishes", response_class=HTMLResponse)
def send_wish(
    request: Request,
    event_id: str,
    viewer: Member,
    session: SessionDep,
    target: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "",
) -> Response:
    lang = _lang(request)
    # (kept for the page again: a select shows only its own options anyway)
    form = {"target": target[:200], "level": level[:20], "priority": priority[:20]}
    number = DEFAULT_PRIORITY
    if priority.strip():  # anything but 1..5 is refused by the domain, on this field
        digits = priority.strip()
        number = int(digits) if digits.isdigit() and len(digits) < 10 else 0
    try:
        member_wishes.set_wish(session, viewer.principal, event_id, target, level, number)
    except member_wishes.WishRefused as exc:
        m = member_events.membership(session, viewer.principal, event_id)
        message = i18n.translate(lang, f"member.wish.error.{exc.code}")
        if exc.code == "deadline":
            return _event_page(request, session, m, status=409, form=form, alert=message)
        return _event_page(request, session, m, status=400, form=form, errors={"target": message})
    except ValidationFailed as exc:
        m = member_events.membership(session, viewer.principal, event_id)
        errors = _wish_errors(exc, lang)
        return _event_page(request, session, m, status=400, form=form, errors=errors)
    return RedirectResponse(f"/console/me/events/{event_id}?done=saved#wishes", status_code=303)


@router.post("/me/events/{event_id}/wishes/remove", response_class=HTMLResponse)
def remove_wish(
    request: Request,
    event_id: str,
    viewer: Member,
    session: SessionDep,
    target: Annotated[str, Form()] = "",
) -> Response:
    try:
        member_wishes.remove_wish(session, viewer.principal, event_id, target)
    except member_wishes.WishRefused as exc:
        m = member_events.membership(session, viewer.principal, event_id)
        message = i18n.translate(_lang(request), f"member.wish.error.{exc.code}")
        return _event_page(request, session, m, status=409, alert=message)
    return RedirectResponse(f"/console/me/events/{event_id}?done=removed#wishes", status_code=303)
