"""Organization input rules."""

from __future__ import annotations

import re
import unicodedata

from app.errors import FieldIssue

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")
NAME_MAX = 100


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:64].strip("-")


def check_organization(name: str, slug: str) -> list[FieldIssue]:
    issues = []
    if not 1 <= len(name) <= NAME_MAX:
        issues.append(FieldIssue("name", f"Give a name of 1 to {NAME_MAX} characters."))
    if not SLUG_RE.match(slug):
        issues.append(
            FieldIssue(
                "slug",
                "Use 3 to 64 lower-case letters, digits and inner hyphens.",
            )
        )
    return issues
