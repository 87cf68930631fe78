"""The organizer pages of the console (see service/console/__init__.py, "Adding a page").
`service/console/routes.py` includes this router before its catch-all 404; the console
router adds the CSRF guard to every route.

    organizer_profiles      /console/profiles (list), /console/profiles/import (upload,
                            preview, confirm, job progress)
    organizer_events        /console/events (list, new, edit, page, delete)
    organizer_participants  /console/events/{id}/participants (add, upload, edit, remove)
    organizer_pairs         /console/events/{id}/suggestions, /console/events/{id}/wishes

Every page needs the organizer or admin role (the API's `Principal.require`: members get
the 403 page); an event is the viewer's own (admins: any), else the 404 page, as the
API answers 404 for an event that is not yours. The schedule pages
(/console/events/{id}/schedule) are another area's.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.console import (
    organizer_events,
    organizer_pairs,
    organizer_participants,
    organizer_profiles,
    pages,
)
from service.console.pages import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
for _part in (organizer_profiles, organizer_events, organizer_participants, organizer_pairs):
    router.include_router(_part.router)

pages.NAV.extend(
    [
        pages.NavItem("nav.organizer.profiles", "/console/profiles", roles=("admin", "organizer")),
        pages.NavItem(
            "nav.organizer.import", "/console/profiles/import", roles=("admin", "organizer")
        ),
        pages.NavItem("nav.organizer.events", "/console/events", roles=("admin", "organizer")),
    ]
)
