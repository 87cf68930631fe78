"""When two list rows are one organization, and what the one profile keeps (README,
"Connectors: merging").

A firm arrives from several lists: the EDINET code list, the JPX listed-company list, an
office's own member sheet. Each row is mapped to a profile on its own; this module says
which stored (or earlier) profile a new one is the same organization as, and merges them.

Keys, strongest first (the first that finds a profile decides):
  1. the same profile id (a list imported again);
  2. `registry.corporate_number` (法人番号, 13 digits);
  3. `registry.securities_code` (the 4-character TSE code; EDINET's 5-digit form ends in
     a check "0" that is dropped when mapping);
  4. the website's host (without `www.`; hosts shared by unrelated sites are never a key),
     or a list's own `registry.domains` where it gives them (then the website is not a key);
  5. the normalised name plus the country (legal-form words such as 株式会社 / Co., Ltd.
     dropped, width, case, spaces and punctuation ignored).
A match is vetoed when the two profiles carry different corporate numbers or different
securities codes: two legal entities are never merged by a weaker key.

Merging (`merge_into`): the profile found keeps its id, and every field it has; the
newcomer only fills what is empty there (name_en, country, region, description, website,
employees, founded), adds the industries it lacks, and adds its registry keys. Registry
keys that the newcomer's own list owns (`owned`: EDINET's edinet_code, JPX's market ...)
are refreshed from it, so a list imported again updates what it said before; no other
field is ever overwritten (id, name, kind, offers, needs, markets, languages, cluster and
contact are the office's). `registry.sources` lists every list that fed the profile, and
`registry.domains` every domain of the organization (both are unions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from models.profile import MAX_ITEMS, Profile

__all__ = ["Match", "MergeIndex", "domain_of", "merge_into", "name_key"]

# Legal-form words, Japanese and English, dropped before names are compared.
_LEGAL_FORMS = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|公益社団法人|一般財団法人|"
    r"公益財団法人|独立行政法人|国立研究開発法人|国立大学法人|学校法人|[(（]株[)）]|㈱|[(（]有[)）]|㈲|"
    r"\b(?:co|corp|corporation|company|inc|incorporated|ltd|limited|llc|plc|gmbh|ag|sa|"
    r"s\.?p\.?a|s\.?r\.?l|kk|k\.k)\b\.?",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[\W_]+")
# Hosts that many unrelated organizations' sites live under: never a merge key.
SHARED_HOSTS = frozenset(
    {
        "sites.google.com",
        "google.com",
        "facebook.com",
        "instagram.com",
        "x.com",
        "twitter.com",
        "linkedin.com",
        "github.io",
        "wixsite.com",
        "jimdo.com",
        "jimdofree.com",
        "ameblo.jp",
        "note.com",
        "fc2.com",
        "blogspot.com",
        "wordpress.com",
        "example.com",
    }
)


def name_key(name: str) -> str:
    """A name as compared for merging: NFKC, case-folded, legal forms, spaces and
    punctuation gone ("株式会社　サカタのタネ" and "サカタのタネ" are one key)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _LEGAL_FORMS.sub(" ", text)
    return _NOT_WORD.sub("", text)


def domain_of(website: str | None) -> str | None:
    """The host of a website (lower case, without `www.`), as the engine's org_key reads it;
    None for no website or a shared host."""
    if not website:
        return None
    raw = website.strip().lower()
    try:
        host = urlsplit(raw if "://" in raw else "http://" + raw).hostname or ""
    except ValueError:
        return None
    host = host.removeprefix("www.").rstrip(".")
    if not host or "." not in host:
        return None
    if host in SHARED_HOSTS or any(host.endswith("." + s) for s in SHARED_HOSTS):
        return None
    return host


def merge_keys(p: Profile) -> list[tuple[str, str]]:
    """(key kind, value) of a profile, strongest first, the id excluded."""
    keys: list[tuple[str, str]] = []
    if number := p.registry.get("corporate_number"):
        keys.append(("corporate_number", number))
    if code := p.registry.get("securities_code"):
        keys.append(("securities_code", code))
    # A list's own domains (the university list's) are the organization's; its web page
    # is only a link, and lists do carry a neighbour's page by mistake.
    own = domain_of(p.website)
    domains = p.registry.get("domains", "").split() or ([own] if own else [])
    for domain in dict.fromkeys(d.lower() for d in domains):
        if domain_of(domain):
            keys.append(("domain", domain))
    if p.country and (key := name_key(p.name)):
        keys.append(("name", f"{p.country}:{key}"))
    return keys


_VETO_KEYS = ("corporate_number", "securities_code")


@dataclass(frozen=True)
class Match:
    """The profile a newcomer is the same organization as, and the key that said so."""

    id: str
    key: str  # id, corporate_number, securities_code, domain or name
    value: str


@dataclass
class MergeIndex:
    """Keys → profile id, for the stored profiles and those planned so far. Holds only the
    keys and the two identifiers that can veto a merge, never the documents."""

    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    ids: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def add(self, p: Profile) -> None:
        """Index a profile (a key already taken keeps its first profile)."""
        self.ids[p.id] = (p.registry.get("corporate_number"), p.registry.get("securities_code"))
        for key in merge_keys(p):
            self.keys.setdefault(key, p.id)

    def add_all(self, profiles: Iterable[Profile]) -> None:
        for p in profiles:
            self.add(p)

    def find(self, p: Profile) -> Match | None:
        """The profile `p` merges into, or None when it is a new organization."""
        if p.id in self.ids:
            return Match(p.id, "id", p.id)
        mine = (p.registry.get("corporate_number"), p.registry.get("securities_code"))
        for kind, value in merge_keys(p):
            target = self.keys.get((kind, value))
            if target is None:
                continue
            theirs = self.ids.get(target, (None, None))
            if any(a and b and a != b for a, b in zip(mine, theirs, strict=True)):
                continue  # two legal entities: never merged by a weaker key
            return Match(target, kind, value)
        return None


_UNION_KEYS = ("sources", "domains")  # space-separated sets: merged, never replaced
_FILLED = ("name_en", "country", "region", "description", "website", "employees", "founded")


def merge_into(existing: Profile, incoming: Profile, owned: Iterable[str] = ()) -> Profile:
    """`existing` with the gaps filled from `incoming` (see the module docstring)."""
    data = existing.model_dump()
    for name in _FILLED:
        if data.get(name) in (None, "") and getattr(incoming, name) not in (None, ""):
            data[name] = getattr(incoming, name)
    data["industries"] = list(dict.fromkeys([*existing.industries, *incoming.industries]))[
        :MAX_ITEMS
    ]
    registry = dict(existing.registry)
    owned_keys = set(owned)
    for key, value in incoming.registry.items():
        if key in _UNION_KEYS:
            words = [*registry.get(key, "").split(), *value.split()]
            registry[key] = " ".join(dict.fromkeys(words))
        elif key in owned_keys or key not in registry:
            registry[key] = value
    if "sources" in registry:
        registry["sources"] = " ".join(sorted(registry["sources"].split()))
    data["registry"] = registry
    return Profile.model_validate(data)
