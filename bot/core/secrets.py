"""Keep secrets out of reports: values are masked before any cause or message holds them.

A template can carry secrets in plain sight (an environment variable named
`API_KEY`, a literal password, a `NoEcho` parameter's default). Reports go to PR
comments many people read, so a value is shown only when neither its property path
nor its content looks secret. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: the model's 40 dataclasses cost `--help` about 35 ms
    from bot.core.model import Json

MASK = "****"

_SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|"
    r"auth|signing[_-]?key|client[_-]?secret|connection[_-]?string|dsn)"
)
_SECRET_VALUE = re.compile(
    r"(AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{30,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}"  # Slack
    r"|sk_(live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # JWT
    r"|(?i:(password|secret|token)\s*[=:]\s*\S{6,})"
)


def secret_path(path: Iterable[str | int]) -> bool:
    """Whether a property path names a secret (``Environment.Variables.DB_PASSWORD``)."""
    return any(isinstance(p, str) and _SECRET_NAME.search(p) for p in path)


def secret_value(value: Json) -> bool:
    """Whether a value (or anything inside it) looks like a credential."""
    if isinstance(value, str):
        return bool(_SECRET_VALUE.search(value))
    if isinstance(value, dict):
        # Intrinsics ({"Ref": ...}, dynamic references) are not secrets themselves.
        return any(secret_value(v) for v in value.values())
    if isinstance(value, list):
        return any(secret_value(v) for v in value)
    return False


def masked(value: Json, path: Iterable[str | int] = (), *, no_echo: bool = False) -> Json:
    """The value, or a mask when its path, its content or a NoEcho flag says it is secret."""
    if value is None:
        return None
    if no_echo or secret_path(path) or secret_value(value):
        return MASK
    return value


# Free text (a synth's output, `cdk diff`, an error message): the credential itself is
# replaced and the words around it stay readable. AWS secret access keys have no prefix:
# they are caught after their usual names, or as 40 base64 characters mixing cases and digits.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>[\w.-]*(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|client[_-]?secret)[\w.-]*[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s\"',;]{6,})"
)
_PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
                                re.DOTALL)
_AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[A-Z])"
                             r"(?=[A-Za-z0-9/+]*\d)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
MIN_KNOWN_SECRET = 6  # shorter "secrets" would mask ordinary words


def mask_known(text: str, known: Iterable[str]) -> str:
    """``text`` with each value known to be secret (the GitHub token, AWS keys) replaced by :data:`MASK`."""
    for value in sorted({k for k in known if len(k) >= MIN_KNOWN_SECRET}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every credential it shows replaced by :data:`MASK`.

    ``known`` are values known to be secret (the GitHub token, AWS session keys): they
    are masked wherever they appear, whatever they look like. The patterns are for raw
    text (a synth's output, `cdk diff`); a rendered report only needs :func:`mask_known`,
    its values were masked before rendering.
    """
    text = mask_known(text, known)
    text = _PRIVATE_KEY_BLOCK.sub(MASK, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: m["name"] + MASK, text)
    text = _SECRET_VALUE.sub(MASK, text)
    return _AWS_SECRET_KEY.sub(MASK, text)
