"""Parse ``cdk deploy`` command lines the way the CDK CLI and a POSIX shell read them.

Only what decides *which stacks deploy and how* is interpreted (DOMAIN.md section 2):
the stack selectors, ``--all``, ``--exclusively``, ``--concurrency`` and ``--force``.
Every other option is kept verbatim so a rewritten command still carries, say,
``--require-approval never``. Option arities come from the CLI's own option table
(aws-cdk 2.1148.1, ``lib/cli/cli-type-registry.json``): array options take one value
per occurrence (``nargs: 1``), booleans take none. Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, replace

# Options that take a value (string, number, or one item of an array option); all
# other options of `cdk` and `cdk deploy` are booleans.
_VALUED = frozenset(
    {
        "app", "build", "context", "plugin", "profile", "region", "proxy", "ca-bundle-path",
        "role-arn", "output", "unstable", "telemetry-file", "build-exclude",
        "require-approval", "notification-arns", "rollback-trigger-alarm-arns",
        "monitoring-time-minutes", "tags", "change-set-name", "method", "parameters",
        "outputs-file", "toolkit-stack-name", "progress",
        "hotswap-ecs-minimum-healthy-percent", "hotswap-ecs-maximum-healthy-percent",
        "hotswap-ecs-stabilization-timeout-seconds", "concurrency", "asset-build-concurrency",
        "a", "c", "p", "r", "o", "E", "t", "m", "O",
    }
)  # fmt: skip
_ALIASES = {"e": "exclusively", "f": "force", "v": "verbose", "q": "quiet"}

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_REDIRECT = re.compile(r"\d*(?:&>>?|>>?\|?|<<<|<<-?|<>|>&|<&|<|>)")
_PREFIX_WORDS = frozenset(
    {"!", "{", "if", "then", "do", "else", "elif", "while", "until", "time", "exec",
     "command", "nohup", "env", "sudo"}
)  # fmt: skip
_CDK_PACKAGE = re.compile(r"(?:aws-cdk|cdk)(?:@[\w.^~<>=*-]+)?")
_META = set(" \t\n;&|()<>")
_MAX_WORD = 4096


@dataclass(frozen=True)
class DeployCommand:
    """One ``cdk deploy`` invocation as the CLI will interpret it."""

    selectors: tuple[str, ...]  # stack ids or globs, unquoted, in order
    all_stacks: bool
    exclusively: bool
    concurrency: int
    force: bool
    raw: str  # the command as written, from the runner to its last argument
    runner: tuple[str, ...] = ("cdk",)  # how the CLI is invoked: ("npx", "aws-cdk@2"), ...
    options: tuple[str, ...] = ()  # every other option token, unquoted, in order


@dataclass(frozen=True)
class DeployMatch:
    """A deploy command found in a longer text, with its span ``text[start:end]``."""

    command: DeployCommand
    start: int
    end: int


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "op" | "redirect"
    start: int
    end: int
    text: str  # the source text of the token
    value: str  # a word after shell quote removal


def parse_deploy(command: str) -> DeployCommand | None:
    """The first ``cdk deploy`` in a shell command line, or None when it has none."""
    found = find_deploys(command)
    return found[0].command if found else None


def find_deploys(text: str) -> list[DeployMatch]:
    """Every ``cdk deploy`` invocation in a shell text (``a && cdk deploy X; cdk deploy Y``).

    Lists, pipelines, comments, redirections, ``\\``-newline continuations, env
    assignments (``FOO=1 cdk deploy``) and package runners (``npx``, ``npm run cdk --``,
    ``yarn``, ``pnpm``) are understood; ``$(...)`` and backquotes are kept as word text.
    """
    matches: list[DeployMatch] = []
    for segment in _segments(_tokenize(text)):
        match = _match(text, segment)
        if match is not None:
            matches.append(match)
    return matches


def render_deploy(cmd: DeployCommand) -> str:
    """A canonical command line: runner, ``deploy``, selectors, flags, kept options."""
    parts = [*cmd.runner, "deploy", *cmd.selectors]
    if cmd.all_stacks:
        parts.append("--all")
    if cmd.exclusively:
        parts.append("--exclusively")
    if cmd.force:
        parts.append("--force")
    if cmd.concurrency > 1:
        parts += ["--concurrency", str(cmd.concurrency)]
    parts += cmd.options
    return " ".join(shlex.quote(p) for p in parts)


# --- shell tokens --------------------------------------------------------------------


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r":
            i += 1
        elif text.startswith("\\\n", i):
            i += 2
        elif ch == "\n":
            tokens.append(_Token("op", i, i + 1, "\n", "\n"))
            i += 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif redirect := _REDIRECT.match(text, i):
            tokens.append(_Token("redirect", i, redirect.end(), redirect.group(), ""))
            i = redirect.end()
        elif ch in "&|;()":
            op = text[i : i + 2] if text[i : i + 2] in ("&&", "||", ";;", "|&") else ch
            tokens.append(_Token("op", i, i + len(op), op, op))
            i += len(op)
        else:
            end = _word_end(text, i)
            word = text[i:end]
            tokens.append(_Token("word", i, end, word, _unquote(word)))
            i = end
    return tokens


def _word_end(text: str, i: int) -> int:
    """Index just past the shell word starting at ``i`` (lenient with open quotes)."""
    n = len(text)
    while i < n and text[i] not in _META:
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == "'":
            close = text.find("'", i + 1)
            i = n if close < 0 else close + 1
        elif ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "`":
            close = text.find("`", i + 1)
            i = n if close < 0 else close + 1
        elif ch == "$" and i + 1 < n and text[i + 1] in "({":
            opening, closing = text[i + 1], ")" if text[i + 1] == "(" else "}"
            depth, i = 1, i + 2
            while i < n and depth:
                depth += {opening: 1, closing: -1}.get(text[i], 0)
                i += 1
        else:
            i += 1
    return min(i, n)


def _unquote(word: str) -> str:
    """The word after quote removal; long words skip shlex, which is quadratic on them."""
    joined = word.replace("\\\n", "")
    if not any(c in joined for c in "'\"\\") or len(joined) > _MAX_WORD:
        return joined
    try:
        parts = shlex.split(joined)
    except ValueError:
        return joined.replace("'", "").replace('"', "").strip()
    return parts[0] if len(parts) == 1 else joined


def _segments(tokens: list[_Token]) -> list[list[_Token]]:
    """Simple commands: words and redirections between control operators."""
    segments: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == "op":
            segments.append([])
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


# --- one simple command ---------------------------------------------------------------


def _match(text: str, segment: list[_Token]) -> DeployMatch | None:
    words: list[_Token] = []
    target_pending = False
    for token in segment:
        if token.kind == "redirect":
            target_pending = not token.text.endswith("&")
        elif target_pending:
            target_pending = False
        else:
            words.append(token)
    values = [w.value for w in words]
    first = _skip_prefix(values)
    runner_len = _runner(values[first:])
    if runner_len is None or first + runner_len >= len(words):
        return None
    command = _parse_arguments(values[first + runner_len :])
    if command is None:
        return None
    start, end = words[first].start, words[-1].end
    raw = re.sub(r"[ \t]*\\\n[ \t]*", " ", text[start:end])
    runner = tuple(values[first : first + runner_len])
    return DeployMatch(replace(command, raw=raw, runner=runner), start, end)


def _skip_prefix(values: list[str]) -> int:
    """Index of the program word: past env assignments, shell keywords, env/sudo flags."""
    i = 0
    wrapper = False
    while i < len(values):
        value = values[i]
        if _ASSIGNMENT.match(value) or value in _PREFIX_WORDS:
            wrapper = wrapper or value in ("env", "sudo", "time", "nohup", "command")
        elif not (wrapper and value.startswith("-")):
            break
        i += 1
    return i


def _runner(values: list[str]) -> int | None:
    """How many words invoke the CDK CLI (``cdk``, ``npx aws-cdk@2``, ``npm run cdk --``)."""
    if not values:
        return None
    program = posixpath.basename(values[0])
    if program == "cdk":
        return 1
    if program in ("npx", "bunx", "pnpx"):
        i = _skip_runner_flags(values, 1, valued=("-p", "--package"))
        return _package_at(values, i, run_script=False)
    if program in ("npm", "yarn", "pnpm", "bun"):
        i = _skip_runner_flags(values, 1, valued=("-w", "--workspace", "--prefix", "--filter"))
        verb = values[i] if i < len(values) else ""
        if verb in ("run", "run-script", "exec", "x", "dlx"):
            i = _skip_runner_flags(values, i + 1, valued=("-w", "--workspace", "-p", "--package"))
            if verb not in ("run", "run-script") and values[i : i + 1] == ["--"]:
                i += 1  # `npm exec -- cdk deploy`
            return _package_at(values, i, run_script=verb in ("run", "run-script"))
        if program in ("yarn", "pnpm"):
            return _package_at(values, i, run_script=True)
    return None


def _skip_runner_flags(values: list[str], i: int, *, valued: tuple[str, ...]) -> int:
    while i < len(values) and values[i].startswith("-") and values[i] != "--":
        i += 2 if values[i] in valued else 1
    return i


def _package_at(values: list[str], i: int, *, run_script: bool) -> int | None:
    if i >= len(values):
        return None
    name = values[i]
    if not (name == "cdk" if run_script else _CDK_PACKAGE.fullmatch(name)):
        return None
    return i + 2 if i + 1 < len(values) and values[i + 1] == "--" else i + 1


def _parse_arguments(args: list[str]) -> DeployCommand | None:
    """Read CDK CLI arguments; None unless the subcommand is ``deploy``.

    Unknown options are taken as booleans: a future value option would then add a
    bogus selector (which fails loudly downstream) rather than hide a real one.
    """
    positionals: list[str] = []
    options: list[str] = []
    flags = {"all": False, "exclusively": False, "force": False}
    concurrency = 1
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positionals += args[i:]
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            continue
        pairs, consumed = _options(arg, args[i] if i < len(args) else None)
        kept = False
        for name, value in pairs:
            key = _ALIASES.get(name, name)
            if key.startswith("no-") and key[3:] in flags:
                flags[key[3:]] = False
            elif key in flags:
                flags[key] = value != "false"
            elif key == "concurrency":
                concurrency = int(value) if value and value.isdigit() and int(value) > 0 else 1
            else:
                kept = True
        if kept:
            options += args[i - 1 : i + consumed]
        i += consumed
    if not positionals or positionals[0] != "deploy":
        return None
    return DeployCommand(
        selectors=tuple(positionals[1:]),
        all_stacks=flags["all"],
        exclusively=flags["exclusively"],
        concurrency=concurrency,
        force=flags["force"],
        raw="",
        options=tuple(options),
    )


def _options(arg: str, following: str | None) -> tuple[list[tuple[str, str | None]], int]:
    """The (name, value) pairs one option word sets, and how many next words it eats."""
    takes = following is not None and not (following.startswith("-") and len(following) > 1)
    body = arg.lstrip("-")
    if "=" in body:
        name, value = body.split("=", 1)
        return [(name, value)], 0
    if not arg.startswith("--") and len(body) > 1:
        # A cluster of one-letter options (`-ef`, `-vv`); the last one may take a value.
        pairs: list[tuple[str, str | None]] = [(c, None) for c in body]
        if body[-1] in _VALUED and takes:
            return [*pairs[:-1], (body[-1], following)], 1
        return pairs, 0
    if body in _VALUED:
        return ([(body, following)], 1) if takes else ([(body, None)], 0)
    if following in ("true", "false"):  # yargs reads `--force false` as a value
        return [(body, following)], 1
    return [(body, None)], 0


def deploy_command(
    selectors: Sequence[str], *, exclusively: bool = False, concurrency: int = 1, force: bool = False
) -> str:
    """The exact `cdk deploy` line, stack ids quoted for a POSIX shell."""
    command = DeployCommand(tuple(selectors), False, exclusively, concurrency, force, raw="")
    return render_deploy(command)
