"""Auth-specific input rules; failures are reported as the shared domain errors."""

from __future__ import annotations

import re

from app.errors import FieldIssue

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN, PASSWORD_MAX = 10, 256
NAME_MAX = 100


def check_registration(email: str, password: str, name: str) -> list[FieldIssue]:
    issues = []
    if len(email) > 254 or not EMAIL_RE.match(email):
        issues.append(FieldIssue("email", "Enter a valid email address."))
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        issues.append(FieldIssue("password", f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters."))
    if not 1 <= len(name) <= NAME_MAX:
        issues.append(FieldIssue("name", f"Give a name of 1 to {NAME_MAX} characters."))
    return issues
