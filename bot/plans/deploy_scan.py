"""Find where a repository runs ``cdk deploy``, and rewrite such a line in place.

Scanned: GitHub workflow ``run:`` steps, CodeBuild ``buildspec*.yml`` commands, string
literals in Python/TypeScript/JavaScript source that builds pipeline steps (``ShellStep``,
``CodeBuildStep``, a CodeBuild ``BuildSpec``), Makefile recipes, ``package.json`` scripts
and ``*.sh`` scripts. Tests and fixtures (``tests/``, ``fixtures/``, ``test_*.py``,
``*.test.ts``, ...) are skipped: nobody deploys from them.

Every command is read in the form its tool sees it (YAML block scalars unfolded,
string escapes decoded, ``\\``-newline continuations joined), while each character
keeps its offset in the file, so a site points at the real line and column, and an
edit re-encodes the new command for the same literal. The repository is untrusted:
symlinks leading out of it are ignored, big, binary, non-UTF-8 or non-regular files
are skipped, and nothing here raises on bad input. Reading files is the only I/O.
"""

from __future__ import annotations

import ast
import bisect
import io
import json
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bot.core.lazy import lazy_module
from bot.plans.deploy_command import DeployCommand, find_deploys
from bot.plans.deploy_sites import DeploySite, Quoting
from bot.workspace.files import read_text, repo_files

if TYPE_CHECKING:
    import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML does
else:
    yaml = lazy_module("yaml")  # only repositories with workflows or buildspecs need it

GITHUB_WORKFLOW = "github-workflow"
BUILDSPEC = "buildspec"
CDK_SOURCE = "cdk-source"
MAKEFILE = "makefile"
PACKAGE_JSON = "package-json"
SHELL = "shell"

_SOURCE_SUFFIXES = (".py", ".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
_BUILDSPEC = re.compile(r"buildspec[^/]*\.ya?ml", re.IGNORECASE)
_MAKEFILES = ("Makefile", "makefile", "GNUmakefile")
# Tests and fixtures hold `cdk deploy` strings nobody runs as a deploy.
_TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "specs", "fixtures", "__fixtures__", "testdata"})
_TEST_FILE = re.compile(r"(test_.*\.py|.*_test\.py|.*\.(test|spec)\.[cm]?[jt]sx?|conftest\.py)")
# A source file is scanned only when it builds pipeline steps or CodeBuild commands (CDK Pipelines'
# ShellStep/CodeBuildStep, a CodeBuild BuildSpec, a `commands` list, a file named for a pipeline):
# other strings that say "cdk deploy" are not run.
_PIPELINE_SOURCE = re.compile(r"ShellStep|CodeBuildStep|BuildSpec|build_spec|buildspec|CodePipeline|codebuild|"
                              r"\bcommands\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Chunk:
    """Text some tool will run as shell, with the file offset of every character.

    ``where`` has one more entry than ``value``: the offset just past the last
    character. It is None when the decoded text could not be mapped character by
    character; ``anchor`` is then the offset the whole chunk is reported at.
    """

    value: str
    where: tuple[int, ...] | None
    quoting: Quoting
    anchor: int


def _origin(relative: PurePosixPath, siblings: Callable[[str], bool]) -> str | None:
    name = relative.name
    if _TEST_DIRS.intersection(part.lower() for part in relative.parts[:-1]) or _TEST_FILE.fullmatch(name):
        return None
    if relative.parts[:2] == (".github", "workflows") and len(relative.parts) == 3:
        return GITHUB_WORKFLOW if name.endswith((".yml", ".yaml")) else None
    if _BUILDSPEC.fullmatch(name):
        return BUILDSPEC
    if name in _MAKEFILES or name.endswith(".mk"):
        return MAKEFILE
    if name == "package.json":
        return PACKAGE_JSON
    if name.endswith((".sh", ".bash")):
        return SHELL
    if name.endswith(_SOURCE_SUFFIXES) and not name.endswith(".d.ts"):
        # Skip JavaScript compiled next to its TypeScript source (tsc without outDir).
        if name.endswith(".js") and siblings(name[:-3] + ".ts"):
            return None
        return CDK_SOURCE
    return None


def _origin_in(top: Path, relative: PurePosixPath) -> str | None:
    folder = top / relative.parent
    return _origin(relative, lambda name: (folder / name).exists())


def find_deploy_sites(
    repo: Path, *, max_files: int = 5000, max_bytes: int = 2_000_000
) -> list[DeploySite]:
    """Every ``cdk deploy`` the repository's CI, scripts and pipeline source run."""
    top = repo.resolve()
    sites: list[DeploySite] = []
    accept = partial(_origin_in, top)
    for relative, path in repo_files(top, lambda r: accept(r) is not None, max_files=max_files):
        origin = accept(PurePosixPath(relative))
        text = read_text(path, max_bytes)
        if origin is None or text is None or "deploy" not in text:
            continue
        if origin == CDK_SOURCE and "pipeline" not in relative.lower() and not _PIPELINE_SOURCE.search(text):
            continue
        sites += scan_text(relative, text, origin)
    return sorted(sites, key=lambda s: (s.path, s.line, s.column))


def scan_text(path: str, text: str, origin: str) -> list[DeploySite]:
    """The deploy sites in one file's text, read as ``origin`` says."""
    readers: dict[str, Callable[[str], Iterator[_Chunk]]] = {
        GITHUB_WORKFLOW: _workflow_chunks,
        BUILDSPEC: _buildspec_chunks,
        MAKEFILE: _makefile_chunks,
        PACKAGE_JSON: _package_json_chunks,
        SHELL: lambda t: iter([_Chunk(t, tuple(range(len(t) + 1)), Quoting(), 0)]),
        CDK_SOURCE: _python_chunks if path.endswith(".py") else _js_chunks,
    }
    lines = _Lines(text)
    sites: list[DeploySite] = []
    try:
        chunks = list(readers[origin](text))
    except (yaml.YAMLError, ValueError, SyntaxError, tokenize.TokenError, RecursionError):
        return []
    for chunk in chunks:
        if "deploy" not in chunk.value:
            continue
        for match in find_deploys(chunk.value):
            sites.append(_site(path, origin, lines, chunk, match.command, match.start, match.end))
    return sorted(sites, key=lambda s: (s.line, s.column))


class _Lines:
    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]

    def position(self, offset: int) -> tuple[int, int]:
        """(0-based line, column) of a file offset."""
        index = bisect.bisect_right(self.starts, offset) - 1
        return index, offset - self.starts[index]


def _site(
    path: str,
    origin: str,
    lines: _Lines,
    chunk: _Chunk,
    command: DeployCommand,
    start: int,
    end: int,
) -> DeploySite:
    if chunk.where is None:
        row, _ = lines.position(chunk.anchor)
        return DeploySite(path, row + 1, lines.lines[row], command, origin, quoting=chunk.quoting)
    row, column = lines.position(chunk.where[start])
    # Just past the source of the last character (an escape may be longer than one
    # character), but never past the end of that character's line.
    end_row, end_column = lines.position(chunk.where[end])
    last_row, last_column = lines.position(chunk.where[end - 1])
    if end_row != last_row:
        end_row, end_column = last_row, last_column + 1
    return DeploySite(
        path=path,
        line=row + 1,
        text=lines.lines[row],
        command=command,
        origin=origin,
        column=column,
        end_line=end_row + 1,
        end_column=end_column,
        source=tuple(lines.lines[row : end_row + 1]),
        quoting=chunk.quoting,
    )


# --- YAML: workflows and buildspecs ---------------------------------------------------


def _workflow_chunks(text: str) -> Iterator[_Chunk]:
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        for node in _walk_yaml(document):
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if _is_scalar(key, "run") and isinstance(value, yaml.ScalarNode):
                        yield _yaml_chunk(text, value)


def _buildspec_chunks(text: str) -> Iterator[_Chunk]:
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        phases = _get(document, "phases")
        if not isinstance(phases, yaml.MappingNode):
            continue
        for _, phase in phases.value:
            for key in ("commands", "finally"):
                commands = _get(phase, key)
                items = commands.value if isinstance(commands, yaml.SequenceNode) else [commands]
                for item in items:
                    if isinstance(item, yaml.ScalarNode):
                        yield _yaml_chunk(text, item)


def _walk_yaml(node: yaml.Node | None) -> Iterator[yaml.Node]:
    stack = [node] if node is not None else []
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:  # aliases can make the graph cyclic
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, yaml.MappingNode):
            stack += [n for pair in reversed(current.value) for n in reversed(pair)]
        elif isinstance(current, yaml.SequenceNode):
            stack += reversed(current.value)


def _is_scalar(node: yaml.Node, value: str) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == value


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if _is_scalar(k, key):
                return v
    return None


def _yaml_chunk(text: str, node: yaml.ScalarNode) -> _Chunk:
    start, end = node.start_mark.index, node.end_mark.index
    value: str = node.value
    mapped: tuple[str, list[int], Quoting] | None = None
    if node.style in ("|", ">"):
        mapped = _block_scalar(text, start, end, folded=node.style == ">")
    elif "\n" not in text[start:end]:
        body_start, body_end = (start, end) if node.style is None else (start + 1, end - 1)
        body = text[body_start:body_end]
        if node.style is None:
            mapped = body, list(range(body_start, body_end + 1)), Quoting("yaml-plain")
        elif node.style == "'":
            decoded, where = _decode(body, body_start, _single_quoted)
            mapped = decoded, where, Quoting("yaml-single", "'")
        elif node.style == '"':
            decoded, where = _decode(body, body_start, _backslash_escape)
            mapped = decoded, where, Quoting("yaml-double", '"')
    if mapped is not None and mapped[0].rstrip("\n") == value.rstrip("\n"):
        decoded, where, quoting = mapped
        return _Chunk(decoded, tuple(where), quoting, start)
    return _Chunk(value, None, Quoting("yaml-plain"), start)


def _block_scalar(text: str, start: int, end: int, *, folded: bool) -> tuple[str, list[int], Quoting]:
    """A ``|`` or ``>`` scalar's content lines (indentation stripped), offsets kept."""
    first = text.find("\n", start) + 1
    rows: list[tuple[int, str]] = []  # (offset of the line, line text)
    offset = first
    while 0 < offset < end:
        stop = text.find("\n", offset)
        stop = len(text) if stop < 0 else stop
        rows.append((offset, text[offset:stop].removesuffix("\r")))
        offset = stop + 1
    indents = [len(line) - len(line.lstrip(" ")) for _, line in rows if line.strip()]
    indent = indents[0] if indents else 0
    value: list[str] = []
    where: list[int] = []
    previous: int | None = None  # end offset of the last non-empty line
    previous_plain = False
    blanks = 0
    for offset, line in rows:
        content = line[indent:] if line.strip() else ""
        if not content:
            blanks += 1
            continue
        plain = not content[0].isspace()
        if previous is None:
            breaks = "\n" * blanks
        elif folded and plain and previous_plain:
            # Folding: a single break between two plain lines reads as a space; a
            # break followed by blank lines reads as one newline per blank line.
            breaks = "\n" * blanks if blanks else " "
        else:
            breaks = "\n" * (blanks + 1)
        value.extend(breaks)
        where.extend([offset if previous is None else previous] * len(breaks))
        value.extend(content)
        where.extend(range(offset + indent, offset + indent + len(content)))
        previous, previous_plain, blanks = offset + len(line), plain, 0
    if previous is None:
        return "", [end], Quoting("none")
    value.append("\n")
    where += [previous, previous + 1]
    return "".join(value), where, Quoting("none")


# --- string escapes -------------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "a": "\a", "0": "\0",
    "\\": "\\", "'": "'", '"': '"', "`": "`", "/": "/", "$": "$", " ": " ", "e": "\x1b",
}  # fmt: skip
_HEX_ESCAPE = re.compile(r"x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|u\{[0-9a-fA-F]+\}")
_OCTAL_ESCAPE = re.compile(r"[0-7]{1,3}")


def _backslash_escape(body: str, i: int) -> tuple[str, int] | None:
    """The character an escape at ``body[i] == '\\\\'`` stands for, and its length."""
    nxt = body[i + 1 : i + 2]
    if nxt == "\n":
        return "", 2
    if hexed := _HEX_ESCAPE.match(body, i + 1):
        digits = hexed.group()[1:].strip("{}")
        return chr(int(digits, 16)), 1 + len(hexed.group())
    if octal := _OCTAL_ESCAPE.match(body, i + 1):
        return chr(int(octal.group(), 8)), 1 + len(octal.group())
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt], 2
    return None


def _single_quoted(body: str, i: int) -> tuple[str, int] | None:
    return ("'", 2) if body.startswith("''", i) else None


def _decode(
    body: str, offset: int, escape: Callable[[str, int], tuple[str, int] | None]
) -> tuple[str, list[int]]:
    """Decode a literal body; ``where[k]`` is the file offset of decoded char ``k``."""
    trigger = "'" if escape is _single_quoted else "\\"
    value: list[str] = []
    where: list[int] = []
    i = 0
    while i < len(body):
        decoded = escape(body, i) if body[i] == trigger else None
        if decoded is None:
            value.append(body[i])
            where.append(offset + i)
            i += 1
            continue
        chars, length = decoded
        value.extend(chars)
        where.extend([offset + i] * len(chars))
        i += length
    where.append(offset + len(body))
    return "".join(value), where


# --- Python and JavaScript/TypeScript literals ------------------------------------------

def _python_chunks(text: str) -> Iterator[_Chunk]:
    lines = _Lines(text)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type != tokenize.STRING or "deploy" not in token.string:
            continue
        literal = token.string
        quoted = literal.lstrip("rRuUbBfF")
        prefix = literal[: len(literal) - len(quoted)].lower()
        if "b" in prefix or "f" in prefix:
            continue  # bytes and f-strings are not plain text
        quote = quoted[:3] if quoted[:3] in ('"""', "'''") else quoted[:1]
        start = lines.starts[token.start[0] - 1] + token.start[1]
        body_start = start + len(prefix) + len(quote)
        body = quoted[len(quote) : len(quoted) - len(quote)]
        raw = "r" in prefix
        try:
            expected = ast.literal_eval(literal)
        except (ValueError, SyntaxError, MemoryError):
            continue
        if raw:
            value, where = body, list(range(body_start, body_start + len(body) + 1))
        else:
            value, where = _decode(body, body_start, _backslash_escape)
        quoting = Quoting("python", quote, raw)
        if value == expected:
            yield _Chunk(value, tuple(where), quoting, start)
        elif isinstance(expected, str):
            yield _Chunk(expected, None, quoting, start)


def _js_chunks(text: str) -> Iterator[_Chunk]:
    for quote, body_start, body_end in _js_literals(text):
        body = text[body_start:body_end]
        if "deploy" in body:
            value, where = _decode(body, body_start, _backslash_escape)
            yield _Chunk(value, tuple(where), Quoting("js", quote), body_start)


_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


def _js_literals(text: str) -> Iterator[tuple[str, int, int]]:
    """(quote, body start, body end) of string and template literals, comments skipped.

    A ``/`` after an operator or an opening bracket starts a regular expression
    literal, which is skipped too (the usual lexer heuristic).
    """
    i, n = 0, len(text)
    previous = ""
    while i < n:
        ch = text[i]
        if text.startswith("//", i):
            i = _index(text, "\n", i)
        elif text.startswith("/*", i):
            i = _index(text, "*/", i + 2) + 2
        elif ch in "'\"`":
            j = i + 1
            while j < n and text[j] != ch and (ch == "`" or text[j] != "\n"):
                j += 2 if text[j] == "\\" else 1
            yield ch, i + 1, min(j, n)
            i, previous = j + 1, ch
        elif ch == "/" and previous in _REGEX_BEFORE:
            j, in_class = i + 1, False
            while j < n and text[j] != "\n" and (in_class or text[j] != "/"):
                in_class = (in_class or text[j] == "[") and text[j] != "]"
                j += 2 if text[j] == "\\" else 1
            i, previous = j + 1, "/"
        else:
            if not ch.isspace():
                previous = ch
            i += 1


def _index(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    return len(text) if found < 0 else found


# --- Makefiles, package.json ----------------------------------------------------------


def _makefile_chunks(text: str) -> Iterator[_Chunk]:
    """Recipe lines (tab-indented), with their ``\\``-continued lines, prefixes stripped."""
    lines = _Lines(text)
    row = 0
    while row < len(lines.lines):
        line = lines.lines[row]
        first = row
        while lines.lines[row].endswith("\\") and row + 1 < len(lines.lines):
            row += 1
        row += 1
        if not line.startswith("\t"):
            continue
        start = lines.starts[first] + len(line) - len(line.lstrip("\t@-+ "))
        end = lines.starts[row - 1] + len(lines.lines[row - 1])
        body = text[start:end]
        yield _Chunk(body, tuple(range(start, end + 1)), Quoting(), start)


def _package_json_chunks(text: str) -> Iterator[_Chunk]:
    data = json.loads(text)
    scripts = data.get("scripts") if isinstance(data, dict) else None
    if not isinstance(scripts, dict):
        return
    strings = list(_json_strings(text))
    for (key, _, _), (value, body_start, body_end) in zip(strings, strings[1:], strict=False):
        if scripts.get(key) != value or not _is_value(text, body_start - 1):
            continue
        decoded, where = _decode(text[body_start:body_end], body_start, _backslash_escape)
        if decoded == value:
            yield _Chunk(value, tuple(where), Quoting("json", '"'), body_start)


def _json_strings(text: str) -> Iterator[tuple[str, int, int]]:
    """(decoded value, body start, body end) of every JSON string in the text."""
    i = text.find('"')
    while i >= 0:
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        try:
            value = json.loads(text[i : j + 1])
        except ValueError:
            return
        yield value, i + 1, j
        i = text.find('"', j + 1)


def _is_value(text: str, quote: int) -> bool:
    """Whether the string opening at ``quote`` follows a ``:`` (it is a member value)."""
    i = quote - 1
    while i >= 0 and text[i] in " \t\r\n":
        i -= 1
    return i >= 0 and text[i] == ":"
