"""The web console under /console: server-rendered pages (Jinja2, htmx) for the same
users and rules as the API. `routes.router` and `pages.STATIC_DIR` are what the app
mounts; see the README's Console section for how to add a page."""
