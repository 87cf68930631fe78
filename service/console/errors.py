"""What console code raises to end a request with a page instead of a response:
`ConsoleRoute` (service.console.pages) turns these, the API's ClusterMatchError and any
unexpected error into an HTML page in the console's style (never JSON, never a trace).

    SignInRequired   -> 303 to the sign-in page, coming back afterwards
    ConsoleProblem   -> an error page with a status and a message key
"""

from __future__ import annotations


class SignInRequired(Exception):
    pass


class ConsoleProblem(Exception):
    def __init__(
        self, status: int, code: str, headers: dict[str, str] | None = None, **params: object
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.params = params
