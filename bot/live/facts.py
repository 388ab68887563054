"""What one environment has deployed, as live mode read it: the data between the boto3 edge
(``bot.live.aws``, which fills it) and the pure half (``bot.live.adjust``, which reads it). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.model import Environment


@dataclass(frozen=True)
class LiveFacts:
    """What one environment (account/region) has deployed, as far as it could be read.

    Absent keys mean "not read"; ``exports is None`` means ListExports failed (an unknown
    name is then not evidence of anything).
    """

    environment: Environment
    exports: Mapping[str, str] | None = None  # export name -> value
    exporters: Mapping[str, str] = field(default_factory=dict)  # export name -> exporting stack name
    importers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # export -> sorted stack names
    templates: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)  # None: not deployed
    replacements: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (stack, logical id) -> verdict
    change_sets: tuple[str, ...] = ()  # stacks whose change set was computed (and deleted)
    problems: tuple[str, ...] = ()
    account: str | None = None  # the credentials' account
