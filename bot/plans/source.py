"""Find where a CDK app's source creates a construct, so a finding can point at a line.

A construct path from the assembly (``Prod/Compute/Layer/Resource``) names the
construct by its id (``Layer``); the source creates it as ``X(self, "Layer", ...)``
(Python), ``new X(this, 'Layer', ...)`` (TypeScript/JavaScript, Java, C#),
``X.Builder.create(this, "Layer")`` (Java) or ``NewX(stack, jsii.String("Layer"), ...)``
(Go). The search is textual, by design: it must work on any app without running it.
Reading files is the only I/O; the repository is treated as untrusted, as in
``bot.plans.deploy_scan``.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.core.model import AnalysisResult, CodeLocation
from bot.plans.patches import SourceSite
from bot.workspace.files import SKIP_DIRS, read_text, repo_files

EXTENSIONS = {
    "python": (".py",),
    "typescript": (".ts", ".mts", ".cts", ".tsx"),
    "javascript": (".js", ".mjs", ".cjs"),
    "java": (".java",),
    "csharp": (".cs",),
    "go": (".go",),
}
_SKIP_DIRS = SKIP_DIRS | {"test", "tests", "__tests__", "spec", "testdata", "vendor", "obj"}
_TEST_FILE = re.compile(
    r"test_.*\.py|.*_test\.(py|go)|.*\.(test|spec)\.[cm]?[jt]sx?|.*Tests?\.(java|cs)|conftest\.py"
)
# Trailing path segments CDK adds below the construct a user wrote.
_GENERATED_IDS = ("Resource", "Default")

_ID = r"(?P<q>['\"`])(?P<id>{id})(?P=q)"
_ARG = r"[A-Za-z_$][\w.$]*"
# A dotted name that starts a name (the look-behind keeps the search linear on long
# identifier runs) and optional type arguments, bounded for the same reason.
_NAME = r"(?<![\w.$])[A-Za-z_$][\w.$]*"
_TYPE_ARGS = r"(?:<[^>()]{0,200}>)?"
_CALLS = {
    "python": (
        rf"(?P<cls>{_NAME})\s*\(\s*(?:scope\s*=\s*)?{_ARG}\s*,\s*"
        rf"(?:(?:id|construct_id)\s*=\s*)?[rRuU]?{_ID}"
    ),
    "typescript": rf"\bnew\s+(?P<cls>{_ARG})\s*{_TYPE_ARGS}\s*\(\s*{_ARG}\s*,\s*{_ID}",
    "java": (
        rf"(?:\bnew\s+(?P<cls>{_ARG})\s*{_TYPE_ARGS}|(?P<builder>{_NAME})\.Builder\.create)"
        rf"\s*\(\s*{_ARG}\s*,\s*{_ID}"
    ),
    "csharp": rf"\bnew\s+(?P<cls>{_ARG})\s*{_TYPE_ARGS}\s*\(\s*{_ARG}\s*,\s*{_ID}",
    "go": rf"(?P<cls>{_NAME})\s*\(\s*&?{_ARG}\s*,\s*jsii\.String\(\s*{_ID}\s*\)",
}
_CALLS["javascript"] = _CALLS["typescript"]
_COMMENT_STARTS = ("#", "//", "/*", "*")


@dataclass(frozen=True)
class SourceLocation:
    path: str  # relative to the app folder, posix
    line: int  # 1-based
    snippet: str  # that line, stripped
    language: str  # python | typescript | javascript | java | csharp | go


@dataclass(frozen=True)
class _File:
    path: str
    language: str
    text: str
    starts: tuple[int, ...]  # offset of each line

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        return bisect.bisect_right(self.starts, offset)

    def line_text(self, line: int) -> str:
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return self.text[self.starts[line - 1] : end].rstrip("\r")

    def location(self, line: int) -> SourceLocation:
        return SourceLocation(self.path, line, self.line_text(line).strip(), self.language)


@dataclass(frozen=True)
class _Call:
    file: _File
    line: int
    cls: str  # the class (or Go constructor function) instantiated, without its module


def app_language(app_dir: Path) -> str | None:
    """The app's language, from the ``app`` command in its ``cdk.json``; None if unknown."""
    text = read_text(app_dir / "cdk.json", 1_000_000)
    if text is None:
        return None
    try:
        config = json.loads(text)
    except ValueError:
        return None
    app = config.get("app") if isinstance(config, dict) else None
    return app_command_language(app) if isinstance(app, str) else None


def app_command_language(command: str) -> str | None:
    """The language an app command runs (``python3 app.py`` -> ``python``); None if unknown."""
    words = [w.strip("'\"") for w in re.findall(r"[^\s;&|()]+", command)]
    names = {posixpath.basename(w) for w in words}

    def suffix(*endings: str) -> bool:
        return any(w.endswith(endings) and not w.endswith(".d.ts") for w in words)

    if names & {"ts-node", "ts-node-esm", "tsx"} or suffix(*EXTENSIONS["typescript"]):
        return "typescript"
    if any(re.fullmatch(r"python[\d.]*|py|pipenv|poetry|uv|pdm|hatch", n) for n in names):
        return "python"
    if suffix(".py"):
        return "python"
    if names & {"mvn", "mvnw", "gradle", "gradlew", "java", "sbt"} or suffix(".java", ".jar"):
        return "java"
    if "dotnet" in names or suffix(".csproj", ".cs"):
        return "csharp"
    if "go" in names or suffix(".go"):
        return "go"
    if names & {"node", "nodejs"} or suffix(*EXTENSIONS["javascript"]):
        return "javascript"
    return None


def locate_construct(
    app_dir: Path,
    construct_path: str,
    *,
    language: str | None = None,
    max_files: int = 5000,
    max_bytes: int = 2_000_000,
) -> SourceLocation | None:
    """Where the construct at ``construct_path`` is created, or None when not found.

    The construct's id is the last path segment other than CDK's own ``Resource`` and
    ``Default``. When no source creates it (a child an L2 construct makes, such as
    ``Handler/ServiceRole``), its nearest ancestor below the top segment is taken.
    A path of one segment (a stack) finds where that stack is created.
    Among several creations of the id, the one inside the class of its nearest
    ancestor that can be traced (``ComputeStack`` for ``E-Com67-ComputeStack``, found
    through ``ComputeStack(app, "E-Com67-ComputeStack")``) wins, then one in that
    class's file, then the first by path and line. The line is where the call starts.
    """
    segments = [s for s in construct_path.split("/") if s]
    while len(segments) > 1 and segments[-1] in _GENERATED_IDS:
        segments.pop()
    files = _source_files(app_dir, language, max_files=max_files, max_bytes=max_bytes)
    lowest = 1 if len(segments) > 1 else 0  # a lone segment is a stack: find its creation
    for depth in range(len(segments) - 1, lowest - 1, -1):
        calls = _calls(files, segments[depth])
        if calls:
            best = _best(files, calls, segments[:depth])
            return best.file.location(best.line)
    # Created through a helper (`self._layer("StrandsLayer", ...)`): the id as a literal.
    for segment in reversed(segments[lowest:]):
        hits = locate_string(app_dir, segment, language=language, max_files=max_files, max_bytes=max_bytes)
        if hits:
            return hits[0]
    return None


def _best(files: list[_File], calls: list[_Call], ancestors: list[str]) -> _Call:
    """The call in the class of the nearest traceable ancestor, else the first one."""
    score = {id(c): 0 for c in calls}
    for ancestor in reversed(ancestors):
        spans = [s for call in _calls(files, ancestor) for s in _definitions(files, call.cls)]
        if spans:
            for call in calls:
                inside = any(f is call.file and a <= call.line <= b for f, a, b in spans)
                in_file = any(f is call.file for f, _, _ in spans)
                score[id(call)] = 2 if inside else 1 if in_file else 0
            break
    return min(calls, key=lambda c: (-score[id(c)], c.file.path, c.line))


def locate_string(
    app_dir: Path,
    text: str,
    *,
    language: str | None = None,
    max_files: int = 5000,
    max_bytes: int = 2_000_000,
) -> list[SourceLocation]:
    """Every line where ``text`` is a whole string literal (``"E-Com67-ComputeStack"``).

    ``language`` narrows the search; None searches the app's language when ``cdk.json``
    tells it, else every supported language. Sorted by path and line.
    """
    pattern = re.compile(_ID.replace("{id}", re.escape(text)))
    found: dict[tuple[str, int], SourceLocation] = {}
    for file in _source_files(app_dir, language, max_files=max_files, max_bytes=max_bytes):
        for match in pattern.finditer(file.text):
            line = file.line_of(match.start("id"))
            found.setdefault((file.path, line), file.location(line))
    return [found[key] for key in sorted(found)]


def _source_files(
    app_dir: Path, language: str | None, *, max_files: int, max_bytes: int
) -> list[_File]:
    """Non-test source files of the language (detected when None; all when unknown)."""
    language = language or app_language(app_dir)
    languages = [language] if language in EXTENSIONS else list(EXTENSIONS)
    by_suffix = {suffix: lang for lang in languages for suffix in EXTENSIONS[lang]}

    def accept(relative: PurePosixPath) -> bool:
        name = relative.name
        return (
            relative.suffix in by_suffix
            and not name.endswith(".d.ts")
            and not _TEST_FILE.fullmatch(name)
        )

    files = []
    found = repo_files(app_dir, accept, max_files=max_files, skip_dirs=_SKIP_DIRS)
    for relative, path in found:
        text = read_text(path, max_bytes)
        if text is not None:
            starts = (0, *(m.end() for m in re.finditer("\n", text)))
            files.append(_File(relative, by_suffix[PurePosixPath(relative).suffix], text, starts))
    return files


def _calls(files: Iterable[_File], construct_id: str) -> list[_Call]:
    """Construct instantiations with this id as a literal, comment lines excluded."""
    calls = []
    patterns: dict[str, re.Pattern[str]] = {}
    for file in files:
        if construct_id not in file.text:
            continue
        if file.language not in patterns:
            source = _CALLS[file.language].replace("{id}", re.escape(construct_id))
            patterns[file.language] = re.compile(source)
        for match in patterns[file.language].finditer(file.text):
            line = file.line_of(match.start())
            if file.line_text(line).lstrip().startswith(_COMMENT_STARTS):
                continue
            cls = match.groupdict().get("cls") or match.groupdict().get("builder") or ""
            calls.append(_Call(file, line, cls.rsplit(".", 1)[-1]))
    return calls


def _definitions(files: Iterable[_File], name: str) -> list[tuple[_File, int, int]]:
    """(file, first line, last line) of each definition of class (Go: function) ``name``."""
    if not name:
        return []
    spans = []
    for file in files:
        if name not in file.text:
            continue
        if file.language == "go":
            start = re.compile(rf"^func\s+{re.escape(name)}\s*\(", re.M)
            next_definition = re.compile(r"^func\s", re.M)
        elif file.language == "python":
            start = re.compile(rf"^[ \t]*class\s+{re.escape(name)}\b", re.M)
            next_definition = re.compile(r"^(?:class|def)\s|^@", re.M)
        else:
            start = re.compile(rf"\bclass\s+{re.escape(name)}\b")
            next_definition = re.compile(r"\bclass\s+[A-Za-z_$]")
        for match in start.finditer(file.text):
            following = next_definition.search(file.text, match.end())
            end = following.start() if following else len(file.text)
            spans.append((file, file.line_of(match.start()), file.line_of(max(end - 1, 0))))
    return spans


def code_locations(result: AnalysisResult, source: Path) -> dict[str, CodeLocation]:
    """Where each construct named in a finding's causes is created in the app's source."""
    language = app_language(source)
    found: dict[str, CodeLocation] = {}
    for finding in result.findings:
        for cause in finding.causes:
            path = cause.details.get("construct_path")
            if not isinstance(path, str) or path in found:
                continue
            location = locate_construct(source, path, language=language)
            if location is not None:
                found[path] = CodeLocation(location.language, location.path, location.line, location.snippet)
    return found


def source_sites(source: Path, construct_paths: Iterable[str]) -> dict[str, SourceSite]:
    """Where each construct path is created, with its file's text, for patches.

    Only exact hits: the located statement must create the path's own id (not an
    ancestor found as a fallback), so a patch never edits the wrong construct.
    """
    language = app_language(source)
    found: dict[str, SourceSite] = {}
    texts: dict[str, str | None] = {}
    for construct_path in construct_paths:
        if construct_path in found:
            continue
        segments = [s for s in construct_path.split("/") if s]
        while len(segments) > 1 and segments[-1] in _GENERATED_IDS:
            segments.pop()
        if not segments:
            continue
        location = locate_construct(source, construct_path, language=language)
        if location is None:
            continue
        if location.path not in texts:
            texts[location.path] = read_text(source / location.path, 2_000_000)
        text = texts[location.path]
        if text is None:
            continue
        start = sum(len(line) + 1 for line in text.split("\n")[: location.line - 1])
        literal = re.compile(_ID.replace("{id}", re.escape(segments[-1])))
        if not literal.search(text[start : start + 400]):
            continue
        found[construct_path] = SourceSite(location.path, location.language, location.line, text)
    return found


_PIN = re.compile(r"^\s*aws-cdk-lib\s*(?:\[[^\]]*\])?\s*(==|~=|>=)\s*([0-9][0-9.]*)", re.M)


def declared_library_version(source: Path) -> str | None:
    """The aws-cdk-lib version the app's files pin exactly (lock files, ``==`` requirements).

    A lower bound alone (``>=2.120.0``) says nothing about what is installed: None.
    """
    lock = read_text(source / "package-lock.json", 20_000_000)
    if lock:
        try:
            packages = json.loads(lock).get("packages", {})
            version = packages.get("node_modules/aws-cdk-lib", {}).get("version")
            if isinstance(version, str):
                return version
        except (ValueError, AttributeError):
            pass
    for name in ("requirements.txt", "requirements.lock", "requirements-dev.txt", "poetry.lock", "uv.lock"):
        text = read_text(source / name, 5_000_000)
        if not text:
            continue
        if name.endswith(".lock") and "aws-cdk-lib" in text:
            match = re.search(r'name\s*=\s*"aws-cdk-lib"\s*\nversion\s*=\s*"([^"]+)"', text)
            if match:
                return match.group(1)
        for operator, version in _PIN.findall(text):
            if operator == "==":
                return str(version)
    return None


MAX_USAGE_SITES = 60


def plan_construct_paths(result: AnalysisResult) -> list[str]:
    """Construct paths plans may patch: the resources behind the findings' exports (in base,
    where the value they carry today is made), the constructs using them, and the stacks
    involved (where they are created)."""
    paths: list[str] = []
    exports = {f.export for f in result.findings if f.export}
    for stack in result.base.all_stacks():
        for output in stack.outputs.values():
            if output.export_name in exports and isinstance(output.value, dict):
                ref = output.value.get("Ref") or (output.value.get("Fn::GetAtt") or [None])[0]
                resource = stack.resources.get(ref) if isinstance(ref, str) else None
                if resource is not None and resource.construct_path:
                    paths.append(resource.construct_path)
    stacks = {s.key: s for a in (result.base, result.head) for s in a.stacks.values()}
    # The constructs that use the value: dropping or switching a consumer's reference edits
    # them. Each is a scan of the source, so only so many (beyond, those steps are described).
    usages = dict.fromkeys(u.construct_path for f in result.findings for u in f.usages if u.construct_path)
    paths.extend(list(usages)[:MAX_USAGE_SITES])
    for finding in result.findings:
        for key in (finding.producer_key, *finding.consumer_keys):
            found = stacks.get(key) if key else None
            if found is not None and found.parent is None:
                paths.append(found.hierarchical_id)
    return list(dict.fromkeys(paths))


def import_sites(source: Path, names: Iterable[str]) -> dict[str, list[SourceSite]]:
    """Lines that import each hand-named export by its literal name (``Fn.import_value("x")``)."""
    language = app_language(source)
    found: dict[str, list[SourceSite]] = {}
    texts: dict[str, str | None] = {}
    for name in names:
        for location in locate_string(source, name, language=language):
            if not re.search(r"import_?[vV]alue|ImportValue", location.snippet):
                continue
            if location.path not in texts:
                texts[location.path] = read_text(source / location.path, 2_000_000)
            text = texts[location.path]
            if text is not None:
                found.setdefault(name, []).append(SourceSite(location.path, location.language, location.line, text))
    return found
