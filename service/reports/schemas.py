"""What the API reads and answers about programmes and reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.reports import TARGET_KEYS
from service.io.media import ONE_LINE_TEXT
from service.reports.service import MAX_NAME, MAX_TARGET, MAX_YEAR, MIN_YEAR
from service.store.tables import ProgramRow


class TargetsBody(BaseModel):
    """A programme year's targets; a figure left out has no target."""

    model_config = ConfigDict(extra="forbid")

    meetings_held: int | None = Field(default=None, ge=0, le=MAX_TARGET)
    follow_ups: int | None = Field(default=None, ge=0, le=MAX_TARGET)
    contracts: int | None = Field(default=None, ge=0, le=MAX_TARGET)
    new_businesses: int | None = Field(default=None, ge=0, le=MAX_TARGET)

    def stored(self) -> dict[str, int]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ProgramBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=MAX_NAME, json_schema_extra={"pattern": ONE_LINE_TEXT}
    )
    fiscal_year: int = Field(ge=MIN_YEAR, le=MAX_YEAR)
    targets: TargetsBody = Field(default_factory=TargetsBody)


def program_out(row: ProgramRow) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "fiscal_year": row.fiscal_year,
        "targets": {k: (row.targets or {}).get(k) for k in TARGET_KEYS},
        "owner_key": row.owner_key,
        "office": row.office,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
