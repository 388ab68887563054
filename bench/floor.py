"""The floor the analysis is compared with: read and ``json.loads`` both assemblies' files.

    python -m bench.floor BASE HEAD

The files the loader reads (``manifest.json``, templates, nested templates, asset
manifests), with the standard library's ``json``, in one fresh process: the cheapest
any analysis of these assemblies could be. Prints the number of files and bytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

READ_SUFFIXES = (".template.json", ".assets.json")


def is_read(path: Path) -> bool:
    return path.name == "manifest.json" or path.name.endswith(READ_SUFFIXES)


def main(argv: list[str]) -> int:
    files = size = 0
    for folder in argv:
        for path in sorted(Path(folder).rglob("*")):
            if is_read(path) and path.is_file():
                data = path.read_bytes()
                json.loads(data)
                files += 1
                size += len(data)
    print(json.dumps({"files": files, "bytes": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
