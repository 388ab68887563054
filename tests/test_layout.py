"""The layout's rules, read from the code: imports point one way, and no module cycles.

Each package of ``bot/`` may import only the packages below it (``LAYERS``; its
docstring says the same). Every import counts: top level, inside functions (a lazy
import is still a dependency) and under ``if TYPE_CHECKING:`` (a type is one too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# package -> the packages it may import (besides itself and the root ``bot``)
LAYERS: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "workspace": frozenset({"core"}),
    "plans": frozenset({"core", "workspace"}),
    "live": frozenset({"core", "workspace", "plans"}),
    "render": frozenset({"core"}),
    "github": frozenset({"core"}),
    "cli": frozenset({"core", "workspace", "plans", "live", "render", "github"}),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, package: str) -> Iterator[str]:
    """Every ``bot`` module a tree imports, ``from bot.x import y`` as ``bot.x.y`` when y is a module."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "bot")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] == "bot":
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    yield candidate if _is_module(candidate) else base
        yield from _imports(node, package)


def _is_module(name: str) -> bool:
    path = BOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(BOT.rglob("*.py")):
        name = module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {m for m in _imports(ast.parse(path.read_text(encoding="utf-8")), package) if m != name}
    return graph


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def wrong_way(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, imported in sorted(graph.items()):
        own = layer(module)
        for target in sorted(imported):
            other = layer(target)
            if own is None or other is None or other == own:
                continue
            if other not in LAYERS[own]:
                bad.append(f"{module} imports {target}: {own} may import only {sorted(LAYERS[own]) or 'nothing'}")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_lives_in_a_layer() -> None:
    loose = [m for m in import_graph() if layer(m) is None and m not in ("bot", "bot.__main__")]
    assert not loose, f"modules outside the layers {sorted(LAYERS)}: {loose}"


def test_imports_point_down() -> None:
    assert wrong_way(import_graph()) == []


def test_no_import_cycles() -> None:
    # A package __init__ that re-exports its own modules is not a cycle of ideas; only
    # cycles between modules count.
    graph = {m: {t for t in ts if not m.startswith(t + ".") and not t.startswith(m + ".")}
             for m, ts in import_graph().items()}
    assert cycles(graph) == []


def test_each_package_says_what_it_owns_and_may_import() -> None:
    for package in LAYERS:
        doc = ast.get_docstring(ast.parse((BOT / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"bot/{package}/__init__.py has no docstring"
        allowed = LAYERS[package]
        for other in LAYERS:
            if other in allowed:
                assert f"``{other}``" in doc or f"`{other}`" in doc, (
                    f"bot/{package}'s docstring does not name {other}, which it may import")


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"bot.core.a": {"bot.plans.b"}, "bot.plans.b": set()}, ["bot.core.a imports bot.plans.b"]),
        ({"bot.plans.b": {"bot.core.a"}, "bot.core.a": set()}, []),
        ({"bot.render.x": {"bot.live.y"}, "bot.live.y": set()}, ["bot.render.x imports bot.live.y"]),
    ],
)
def test_the_direction_check_sees_a_wrong_import(graph: dict[str, set[str]], expected: list[str]) -> None:
    assert [line.split(":")[0] for line in wrong_way(graph)] == expected


def test_the_cycle_check_sees_a_cycle() -> None:
    graph = {"bot.core.a": {"bot.core.b"}, "bot.core.b": {"bot.core.c"}, "bot.core.c": {"bot.core.a"},
             "bot.core.d": {"bot.core.a"}}
    assert cycles(graph) == [["bot.core.a", "bot.core.b", "bot.core.c"]]


def test_function_level_and_type_checking_imports_count() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.live.aws import LiveFacts\n"
        "def f():\n    from bot.core import model\n"
        "from . import states\n"
    )
    assert set(_imports(ast.parse(source), "bot.plans")) == {"bot.live.aws", "bot.core.model", "bot.plans.states"}
