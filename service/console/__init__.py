"""The web console under /console: server-rendered pages (Jinja2, htmx) for the same
users and rules as the API. The app mounts `routes.router` and `routes.STATIC_DIR`.

Modules: `routes` (the pages), `pages` (rendering, navigation, `ConsoleRoute`), `deps`
(the signed-in `Viewer`, role checks, the pre-session key), `security` (cookies, CSRF),
`i18n` + `messages` (ja/en), `errors` (what a route raises to end with a page).

Adding a page
-------------
1. Route: a sync `def` on `routes.router` (or on an `APIRouter(route_class=ConsoleRoute,
   dependencies=[Depends(security.csrf_guard)])` included into it, registered before the
   catch-all `not_found`). Take `viewer: SignedIn` (signed in) or
   `viewer: Annotated[Viewer, require_role("admin", "organizer")]` (the API's own
   `Principal.require`: a 403 page otherwise). Decide access to a record with the API's
   rules on `viewer.principal` (`owns`, `sees_contact`, `runs(office)` for an office's
   events and profiles, `key_pk` for what is one person's), never
   with rules of your own. Take the database as the API does: `session: SessionDep`
   (service.deps; committed when the route returns, rolled back if it raises), and call
   the domain's service functions with it (`service.profiles.service.get`, ...).
   Return `render(request, "x.html", status, headers, **values)`; for a missing record
   raise the API's `NotFound` (or `ConsoleProblem(404, "error.404")`) and the route class
   renders the page. Redirect after a successful POST (303).
2. Template: `{% extends "base.html" %}` with blocks `title` and `main`
   (`main_class` "page narrow" for a single card). Everything is escaped; never use
   `|safe` on anything a user typed. No inline `<script>` or `style=` (the CSP forbids
   them): use classes from static/console.css (`card`, `grid two`, `facts`, `chips`,
   `badge`, `alert error|success`, `table.data` in `.table-wrap`, `button primary|
   secondary|danger|small`, `<progress>` in `.progress`).
3. Forms: `method="post" novalidate`, `{{ csrf_field() }}` inside (htmx requests send
   the token as `X-CSRF-Token` from the body's hx-headers). Fields through
   `{% from "_forms.html" import field, errors_summary with context %}`:
   `field(name, label, value, error=errors.get(name))`, errors being message keys,
   re-rendered with status 400 and the user's input (never a password).
4. Words: every string through `t("area.key", **fields)`, with the key added to both
   `messages.JA` and `messages.EN` (a test fails otherwise). Times: `dt(value)`.
5. Navigation: append a `pages.NavItem(key, href, roles)` to `pages.NAV`.
6. Tests: `tests/service/console/conftest.py` gives `console` (the app with profiles,
   `console.user(role, profile_id=..., name=...)`, `console.signed_in(user)` -> a client,
   `csrf_of(html)`), and for a real browser `live_server`, `new_page(locale)` and
   `browser.shot(page, name)` (look at the screenshots).
"""
