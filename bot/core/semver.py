"""Strict version strings: what a manifest, tree.json or a report may name as a version. Pure.

Versions are printed in the comment's footer, so an assembly or an uploaded report
must not be able to smuggle text through them: only SemVer 2.0 shapes (digits,
dots, and ``-``/``+`` labels of letters, digits and hyphens), at most 64 characters.
"""

from __future__ import annotations

import re

MAX_LENGTH = 64
# https://semver.org/#backusnaur-form-grammar-for-valid-semver-versions (leading zeros tolerated)
_SEMVER = re.compile(r"(\d+)\.\d+\.\d+(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")


def major(text: object) -> int | None:
    """The major version of a strict version string, or None when ``text`` is not one."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return None
    match = _SEMVER.fullmatch(text)
    return int(match.group(1)) if match else None


def is_version(text: object) -> bool:
    return major(text) is not None
