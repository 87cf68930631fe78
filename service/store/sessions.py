"""The session factory that the layers above the store are handed (they open sessions
with it and pass them to the repositories; they import no SQLAlchemy themselves)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

Sessions = sessionmaker[Session]
