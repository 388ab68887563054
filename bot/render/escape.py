"""Escaping for text that comes from a cloud assembly and lands in a GitHub comment.

Stack names, construct paths, export names, asset paths and property values are
chosen by whoever wrote the CDK app (or a pull request against it). The Markdown
renderer runs Jinja2 with ``autoescape=False`` and passes every such value through
one of these filters instead:

``markdown(text)``
    Inline text in a paragraph, list item, heading, table cell or HTML element.
    Markdown and HTML punctuation becomes numeric character references, which
    GitHub decodes back to the same characters but never reads as syntax;
    ``@`` gets a zero-width joiner so ``@user`` cannot mention (GitHub matches
    mentions on the decoded text, so an entity alone would not be enough), and
    so do ``#`` and ``GH-`` (issue references), ``://`` and ``www.`` (no URL becomes a link).
``code_span(text, table=False)``
    A complete inline code span whose backtick delimiter is longer than any
    backtick run inside it. ``table=True`` also escapes ``|`` (GFM splits table
    cells on it even inside code spans).
``code_block(text, language, indent)``
    A complete fenced block whose fence is longer than any backtick run inside it.
``prose(text)``
    Our own sentences that embed assembly values and use backticks for code
    (plans): backtick spans become ``code_span``s, the rest ``markdown``.
``mermaid_label(text)``
    A quoted Mermaid label: only letters, digits and a few harmless punctuation
    characters survive.

Pure functions, no Jinja2: the renderer registers them as filters.
"""

from __future__ import annotations

import re

ZWJ = "&#8205;"  # zero-width joiner, as a character reference so golden files show it

_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\\": "&#92;",
    "`": "&#96;",
    "*": "&#42;",
    "_": "&#95;",
    "[": "&#91;",
    "]": "&#93;",
    "|": "&#124;",
    "#": "&#35;" + ZWJ,  # also keeps "owner/repo#12" from cross-referencing an issue
    "~": "&#126;",
    "$": "&#36;",  # GitHub renders $...$ as math
    "!": "&#33;",
    "@": "@" + ZWJ,
}
# Characters that open a block construct when they start a line (list items,
# setext underlines, indented code): only escaped in first position.
_LEADING = {"-": "&#45;", "+": "&#43;", "=": "&#61;", " ": "&#32;"}
_ORDERED_MARKER = re.compile(r"^(\d{1,9})([.)])(?=[ \t]|$)")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
# C0 controls except tab, DEL, and bidirectional overrides (Trojan Source).
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_AUTOLINK = re.compile(r"(?i)(?<=:)/(?=/)|(?<![\w.])www\.")  # "https://", "www." start a link
_GH_REFERENCE = re.compile(r"(?i)(?<![\w])(gh)(?=-\d)")  # "GH-12" links issue 12, as "#12" does
_BACKTICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_MERMAID_UNSAFE = re.compile(r"[^\w .:/,+=@()-]+")
_LANGUAGE = re.compile(r"[^\w+#.-]")


def _one_line(text: object) -> str:
    """The value as a single line: no control characters, line breaks as spaces."""
    value = "" if text is None else str(text)
    value = _LINE_BREAKS.sub(" ", value.replace("\t", " "))
    return _INVISIBLE.sub("", value)


def markdown(text: object, *, line_start: bool = True) -> str:
    """Inline text that can neither format, link, mention nor start a block.

    ``line_start=False`` for a fragment that follows other text on its line: its
    first character cannot open a block there.
    """
    value = _one_line(text)
    out = "".join(_ENTITIES.get(ch, ch) for ch in value)
    out = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + ZWJ + m.group(0)[-1], out)
    out = _GH_REFERENCE.sub(lambda m: m.group(1) + ZWJ, out)
    if not line_start or not value:
        return out
    if value[0] in _LEADING:
        out = _LEADING[value[0]] + out[1:]
    else:
        match = _ORDERED_MARKER.match(out)
        if match:  # "1." / "1)" would start an ordered list
            out = match.group(1) + f"&#{ord(match.group(2))};" + out[match.end() :]
    return out


def _fence_for(text: str, minimum: int) -> str:
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    return "`" * max(minimum, longest + 1)


def code_span(text: object, *, table: bool = False) -> str:
    """A whole inline code span, `` `like this` ``, that its content cannot close."""
    value = _one_line(text)
    if table:
        value = value.replace("|", "\\|")
    if not value.strip(" "):
        return f"`{value or ' '}`"  # all spaces: shown as they are
    fence = _fence_for(value, 1)
    if value.startswith(("`", " ")) or value.endswith(("`", " ")):
        value = f" {value} "  # CommonMark strips one space on each side
    return f"{fence}{value}{fence}"


def code_block(text: object, language: str = "", indent: int = 0) -> str:
    """A whole fenced code block, every line indented by ``indent`` spaces.

    The fence is longer than any backtick run in the content, so no line of it can
    close the block. Ends without a trailing newline.
    """
    value = _INVISIBLE.sub("", "" if text is None else str(text))
    lines = _LINE_BREAKS.sub("\n", value).split("\n")
    fence = _fence_for(value, 3)
    pad = " " * indent
    info = _LANGUAGE.sub("", language)
    body = [f"{pad}{line}" if line else "" for line in lines]
    return "\n".join([f"{pad}{fence}{info}", *body, f"{pad}{fence}"])


def prose(text: object) -> str:
    """Our own Markdown-ish sentence: `backtick` spans stay code, the rest is escaped."""
    value = _one_line(text)
    out: list[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(value):
        out.append(markdown(value[position : match.start()], line_start=position == 0))
        out.append(code_span(match.group(2)))
        position = match.end()
    out.append(markdown(value[position:], line_start=position == 0))
    return "".join(out)


def mermaid_label(text: object, limit: int = 80) -> str:
    """A double-quoted Mermaid label with everything Mermaid could parse removed."""
    value = _MERMAID_UNSAFE.sub(" ", _one_line(text)).strip()
    value = re.sub(r" {2,}", " ", value)
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return f'"{value or "?"}"'


def short_hash(value: object, length: int = 12) -> str:
    """The first ``length`` characters of an asset hash (as cdk and changes.py show it)."""
    return "" if value is None else str(value)[:length]
