"""The organizer pages of the console (see service/console/__init__.py, "Adding a page").
`service/console/routes.py` includes this router before its catch-all 404; the console
router adds the CSRF guard to every route."""

from __future__ import annotations

from fastapi import APIRouter

from service.console.pages import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute)
