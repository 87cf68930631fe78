"""The organization profile: the import format (README, "Profiles"), its validation, and
the texts that matching embeds.

A profile is validated once, here, whatever door it came in by (API body, JSONL line, CSV
row), so every caller gets the same field names and reasons in its errors.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from models.codes import normalize_country, normalize_language

Kind = Literal[
    "firm",
    "university",
    "research_institute",
    "trading_company",
    "financial_institution",
    "public_body",
    "support_org",
    "other",
]
KINDS: tuple[str, ...] = get_args(Kind)
ACADEMIC_KINDS: frozenset[str] = frozenset({"university", "research_institute"})

# Size limits on everything a caller sends (also documented in the README).
MAX_ID = 128
MAX_NAME = 300
MAX_SHORT = 200
MAX_DESCRIPTION = 50_000
MAX_ITEM = 1_000
MAX_ITEMS = 100
MAX_URL = 500
MAX_REGISTRY_KEYS = 30
MAX_REGISTRY_VALUE = 500
REGISTRY_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$"
_LIST_SPLIT = re.compile(r"[\n;；]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

ProfileId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID, pattern=ID_PATTERN),
]


def split_list(value: Any, extra_separators: str = "") -> Any:
    """Turn text into a list of items: newlines and ';' always separate, plus any
    `extra_separators` (the CSV importer adds the Japanese comma '、')."""
    if isinstance(value, str):
        pattern = _LIST_SPLIT
        if extra_separators:
            pattern = re.compile(r"[\n;；" + re.escape(extra_separators) + r"]+")
        return [part.strip() for part in pattern.split(value) if part.strip()]
    return value


def _clean_items(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        text = _CONTROL.sub("", item).strip()
        if len(text) > MAX_ITEM:
            raise ValueError(f"an item is longer than {MAX_ITEM} characters")
        if text:
            seen.setdefault(text, None)
    return list(seen)


class Profile(BaseModel):
    """One organization. `id` is the caller's stable id and the upsert key."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: ProfileId
    name: str = Field(min_length=1, max_length=MAX_NAME)
    name_en: str | None = Field(default=None, max_length=MAX_NAME)
    kind: Kind
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2")
    region: str | None = Field(default=None, max_length=MAX_SHORT)
    cluster: str | None = Field(default=None, max_length=MAX_SHORT)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    offers: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    needs: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    industries: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    markets: list[str] = Field(default_factory=list, max_length=300)
    languages: list[str] = Field(default_factory=list, max_length=50)
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    founded: int | None = Field(default=None, ge=1000, le=2100)
    website: str | None = Field(default=None, max_length=MAX_URL)
    contact: str | None = Field(default=None, max_length=MAX_URL)
    registry: dict[str, str] = Field(
        default_factory=dict,
        max_length=MAX_REGISTRY_KEYS,
        description="What public lists say about the organization, by key: corporate_number "
        "(法人番号), edinet_code, securities_code, market, listed, address, domains, sources "
        "(the lists it came from) ... (README, Connectors)",
    )

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, text in value.items():
            if not REGISTRY_KEY.match(key):
                raise ValueError(f"key '{key[:40]}' must be lowercase [a-z0-9_], 1-40 characters")
            cleaned = _CONTROL.sub("", text).strip()
            if len(cleaned) > MAX_REGISTRY_VALUE:
                raise ValueError(f"'{key}' is longer than {MAX_REGISTRY_VALUE} characters")
            if cleaned:
                out[key] = cleaned
        return dict(sorted(out.items()))

    @field_validator("offers", "needs", "industries", "markets", "languages", mode="before")
    @classmethod
    def _text_to_list(cls, value: Any) -> Any:
        return [] if value is None else split_list(value)

    @field_validator("offers", "needs", "industries")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return _clean_items(value)

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return normalize_country(value) if isinstance(value, str) else value

    @field_validator("markets")
    @classmethod
    def _markets(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_country(v) for v in value))

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_language(v) for v in value))

    @field_validator("name", "description")
    @classmethod
    def _required_text(cls, value: str, info: ValidationInfo) -> str:
        cleaned = _CONTROL.sub("", value).strip()
        if info.field_name == "name" and not cleaned:
            raise ValueError("must not be empty")
        return cleaned

    @field_validator("name_en", "region", "cluster", "website", "contact")
    @classmethod
    def _optional_text(cls, value: str | None) -> str | None:
        return (_CONTROL.sub("", value).strip() or None) if value is not None else None


# ---------------------------------------------------------------------------------------
# Texts that get embedded. Each profile has an overall text and, where given, its offers
# and its needs separately, so that one side's needs can be compared with the other's offers.

Facet = Literal["all", "offers", "needs"]
FACETS: tuple[Facet, ...] = ("all", "offers", "needs")
MAX_EMBED_CHARS = 4_000  # longer texts add little to a sentence embedding and cost time


def overall_text(p: Profile) -> str:
    parts: list[str] = [p.name]
    if p.name_en and p.name_en != p.name:
        parts.append(p.name_en)
    if p.description:
        parts.append(p.description)
    if p.offers:
        parts.append("; ".join(p.offers))
    if p.needs:
        parts.append("; ".join(p.needs))
    if p.industries:
        parts.append(", ".join(p.industries))
    return "\n".join(parts)[:MAX_EMBED_CHARS]


def facet_texts(p: Profile) -> dict[Facet, str]:
    """The texts to embed for a profile, by facet; facets with no content are left out."""
    texts: dict[Facet, str] = {"all": overall_text(p)}
    if p.offers:
        texts["offers"] = "; ".join(p.offers)[:MAX_EMBED_CHARS]
    if p.needs:
        texts["needs"] = "; ".join(p.needs)[:MAX_EMBED_CHARS]
    return texts


def text_hash(text: str) -> str:
    """Content hash of an embedded text; with the model id it keys the embedding cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def profile_hash(p: Profile) -> str:
    """Hash of everything stored for a profile: re-importing an unchanged profile is a no-op.
    An empty `registry` is left out, so profiles stored before it existed keep their hash."""
    dumped = p.model_dump_json(exclude=None if p.registry else {"registry"})
    return hashlib.sha256(dumped.encode("utf-8")).hexdigest()


def digest_of(content_hash: str) -> bytes:
    """A profile's content hash as 32 raw bytes (the SHA-256 of anything that is not one
    in hex, so that every stored value has one)."""
    try:
        raw = bytes.fromhex(content_hash)
    except ValueError:
        raw = b""
    return raw if len(raw) == 32 else hashlib.sha256(content_hash.encode("utf-8")).digest()
