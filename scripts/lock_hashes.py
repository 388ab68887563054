"""Add PyPI's sha256 hashes to a lock of ``name==version`` pins (what ``pip-compile --generate-hashes`` writes).

    python scripts/lock_hashes.py requirements-runtime.lock

Reads the pins (hash lines already there are dropped), asks PyPI's simple index (JSON form,
PEP 691) for every file of each pinned version, and rewrites the file with one ``--hash`` per
file, so ``pip install --require-hashes`` accepts a wheel for any platform and the sdist.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path

INDEX = "https://pypi.org/simple"
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)")


def pins(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for line in text.splitlines() if (m := _PIN.match(line.strip()))]


def header(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_version(filename: str, name: str) -> str | None:
    """The version in a wheel or sdist file name, when the file is ``name``'s."""
    if filename.endswith(".whl"):
        project, version = filename.split("-")[:2]
    else:
        stem = re.sub(r"\.(tar\.gz|tar\.bz2|zip)$", "", filename)
        if "-" not in stem:
            return None
        project, version = stem.rsplit("-", 1)
    return version if normalized(project) == normalized(name) else None


def hashes(name: str, version: str) -> list[str]:
    request = urllib.request.Request(f"{INDEX}/{normalized(name)}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (fixed https URL)
        files = json.load(response)["files"]
    found = sorted({f["hashes"]["sha256"] for f in files
                    if file_version(f["filename"], name) == version and not f.get("yanked")})
    if not found:
        raise SystemExit(f"{name}=={version}: no files on {INDEX}")
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    text = path.read_text()
    lines = header(text)
    for name, version in pins(text):
        digests = hashes(name, version)
        lines.append(f"{name}=={version} \\")
        lines.extend(f"    --hash=sha256:{h}" + (" \\" if i < len(digests) - 1 else "")
                     for i, h in enumerate(digests))
        print(f"{name}=={version}: {len(digests)} files", file=sys.stderr)
    path.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
