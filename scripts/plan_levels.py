"""Count plans by strategy and verification level in JSON reports (primary and alternatives).

    .venv/bin/python scripts/plan_levels.py tests/golden/apps/*.json corpus-report.json

"synthesized" plans are the ones whose changes were applied, synthesized and accepted;
a primary plan shared by several findings (a whole-PR plan) is counted once.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def main(paths: list[str]) -> int:
    counts: Counter[tuple[str, str, str]] = Counter()
    for path in paths:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
        seen: set[str] = set()
        for finding in report.get("findings", []):
            plan = finding.get("remediation")
            if not plan:
                continue
            key = json.dumps(plan, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            for role, item in [("primary", plan), *(("alternative", a) for a in plan.get("alternatives", []))]:
                level = item.get("verification", {}).get("level", "none")
                counts[(role, item["strategy"], level)] += 1
    for role in ("primary", "alternative"):
        strategies = sorted({s for r, s, _ in counts if r == role})
        total_ok = sum(n for (r, _, lv), n in counts.items() if r == role and lv == "synthesized")
        total = sum(n for (r, _, _), n in counts.items() if r == role)
        print(f"{role} plans: {total_ok}/{total} synthesized and working")
        for strategy in strategies:
            by = {lv: counts[(role, strategy, lv)] for lv in ("synthesized", "modelled", "none")}
            print(f"  {strategy:28} {by['synthesized']}/{sum(by.values())} synthesized"
                  f"  ({by['modelled']} modelled, {by['none']} none)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
