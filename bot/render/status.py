"""Short comment bodies for the states that are not a report: could not run, resolved."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.escape import code_block, markdown, prose
from bot.render.markdown import MARKER

MAX_TAIL_LINES = 40


def failure(app_directory: str, reason: str, log_tail: str = "") -> str:
    """The analysis could not run: never a silent "no risk"."""
    lines = [
        MARKER,
        f"## cdk-export-guard — {markdown(app_directory, line_start=False)}",
        "",
        f"❌ **The analysis could not run**: {prose(reason)}",
        "",
        "This pull request has **not** been checked for cross-stack export risks; the check "
        "fails until the analysis runs.",
    ]
    tail = "\n".join(log_tail.splitlines()[-MAX_TAIL_LINES:])
    if tail.strip():
        lines += ["", "<details><summary>Last lines of the output</summary>", "", code_block(tail, "text"),
                  "", "</details>"]
    return "\n".join(lines) + "\n"


def resolved(app_directory: str, head_sha: str | None) -> str:
    """A later push removed every finding: replace the old warning, keep the thread readable."""
    at = f" as of {markdown((head_sha or '')[:7], line_start=False)}" if head_sha else ""
    return (
        f"{MARKER}\n## cdk-export-guard — {markdown(app_directory, line_start=False)}\n\n"
        f"✅ No cross-stack export is at risk any more{at}. The earlier findings were resolved "
        "by a later push.\n"
    )


def diff_appendix(diffs: Sequence[tuple[str, str]], room: int) -> str:
    """`cdk diff` per changed stack, folded; only as many as fit in ``room`` characters."""
    parts: list[str] = []
    used = 0
    for stack, text in diffs:
        block = (f"<details><summary>cdk diff: {markdown(stack, line_start=False)}</summary>\n\n"
                 f"{code_block(text, 'text')}\n\n</details>\n")
        if used + len(block) > room:
            left = len(diffs) - len(parts)
            parts.append(f"_{left} more `cdk diff` output{'s' if left != 1 else ''} left out to fit the comment; "
                         "the job summary has them._\n")
            break
        parts.append(block)
        used += len(block)
    return "\n".join(parts)
