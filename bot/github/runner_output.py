"""Lines for the Actions runner's log: our workflow commands, and other text made inert.  [pure]

The runner reads every line a step prints and obeys those that start (after leading
whitespace) with ``::`` (``::error::``, ``::add-mask::``, ``::stop-commands::``) or the
older ``##[``. Stack names, template paths, synth output and GitHub's messages come from
the pull request, so text we echo must not be able to start a line with either, and the
data of our own commands is escaped as the runner expects (``%``, CR and LF; see
actions/toolkit ``command.ts``, ``escapeData``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.secrets import MIN_KNOWN_SECRET, mask_text

_COMMAND_START = re.compile(r"^(\s*)(::|##\[)", re.MULTILINE)
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
ZERO_WIDTH_SPACE = "\u200b"  # not whitespace to the runner's TrimStart, invisible in the log


def inert(text: str, known_secrets: Iterable[str] = ()) -> str:
    """``text`` for the log: masked, and no line of it can be read as a workflow command."""
    text = _LINE_BREAK.sub("\n", mask_text(text, known_secrets))
    return _COMMAND_START.sub(lambda m: m.group(1) + m.group(2)[0] + ZERO_WIDTH_SPACE + m.group(2)[1:], text)


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command(name: str, message: str, known_secrets: Iterable[str] = ()) -> str:
    """One workflow command line (``::warning::…``) whose message cannot break out of it."""
    return f"::{name}::{escape_data(mask_text(message, known_secrets))}"


def add_mask_lines(values: Iterable[str]) -> list[str]:
    """``::add-mask::`` for each value (each line of it): the runner hides them in every later log line."""
    lines = []
    for value in values:
        for part in _LINE_BREAK.split(value):
            if len(part.strip()) >= MIN_KNOWN_SECRET:
                lines.append(f"::add-mask::{escape_data(part.strip())}")
    return lines
