"""Regenerate bot/data/create_only.json from the pinned cfn-lint's provider schemas.

Run after changing the cfn-lint pin:  .venv/bin/python scripts/update_schemas.py
The analyzer reads this snapshot instead of importing cfn-lint (2 s of start-up);
tests/test_schemas.py checks that it still equals what the installed cfn-lint says.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "bot" / "data" / "create_only.json"


def build() -> dict[str, Any]:
    """Create-only property names per resource type, from every region's schemas."""
    import cfnlint.version
    from cfnlint.helpers import REGIONS
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER as manager

    types: dict[str, dict[str, list[str]]] = {}
    # us-east-1 has the most types; other regions only add the types it lacks.
    for region in ["us-east-1"] + [r for r in REGIONS if r != "us-east-1"]:
        for type_name in manager.get_resource_types(region):
            if type_name in types or not type_name.startswith("AWS::"):
                continue
            schema = manager.get_resource_schema(region, type_name).schema
            types[type_name] = {
                "create_only": sorted(_strip(p) for p in schema.get("createOnlyProperties", [])),
                "conditional": sorted(
                    _strip(p) for p in schema.get("conditionalCreateOnlyProperties", [])
                ),
            }
    return {"cfn_lint_version": cfnlint.version.__version__, "types": dict(sorted(types.items()))}


def _strip(path: str) -> str:
    return path.removeprefix("/properties/")


def dump(data: dict[str, Any]) -> str:
    """One resource type per line: small diffs when cfn-lint is upgraded."""
    lines = [f'{{"cfn_lint_version": {json.dumps(data["cfn_lint_version"])}, "types": {{']
    items = list(data["types"].items())
    for i, (name, rules) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"{json.dumps(name)}: {json.dumps(rules, sort_keys=True)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def main() -> int:
    data = build()
    OUT.write_text(dump(data))
    print(f"wrote {OUT} ({len(data['types'])} types, cfn-lint {data['cfn_lint_version']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
