"""One module per finding kind; each exposes ``check(context) -> list[Finding]``."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.context import Context
from bot.core.model import Finding
from bot.core.rules import (
    export_removed,
    export_value_change,
    import_missing,
    new_reference,
    weak_reference_stale,
)

Rule = Callable[[Context], list[Finding]]

ALL_RULES: tuple[Rule, ...] = (
    export_value_change.check,
    export_removed.check,
    import_missing.check,
    weak_reference_stale.check,
    new_reference.check,
)
