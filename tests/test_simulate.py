"""The simulator reproduces each CloudFormation refusal and the CDK CLI's deploy rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.plans.deploy_command import parse_deploy
from bot.plans.simulate import (
    AppVersion,
    Deployed,
    Invocation,
    SelectionError,
    Simulation,
    StackSpec,
    check_update,
    deployed_state,
    run,
    select,
    waves,
    widest_wave,
)
from tests.tiers import examples


def spec(stack_id: str, template: str = "v1", **fields: object) -> StackSpec:
    return StackSpec(id=stack_id, name=stack_id, template=f"{stack_id}@{template}", **fields)  # type: ignore[arg-type]


def version(label: str, *specs: StackSpec) -> AppVersion:
    return AppVersion(label, {s.id: s for s in specs})


def deploy(start: AppVersion, *steps: tuple[AppVersion, str]) -> Simulation:
    invocations = []
    for v, line in steps:
        command = parse_deploy(line)
        assert command is not None, line
        invocations.append(Invocation(v, command))
    return run(deployed_state(start), invocations)


EXPORT = "P:ExportsOutputRefLayer"
BASE = version(
    "base",
    spec("P", exports={EXPORT: "arn:v1"}),
    spec("C", dependencies=frozenset({"P"}), imports=frozenset({EXPORT})),
)
VALUE_CHANGED = version(
    "head",
    spec("P", "v2", exports={EXPORT: "arn:v2"}),
    spec("C", dependencies=frozenset({"P"}), imports=frozenset({EXPORT})),
)


@pytest.mark.parametrize("line", [
    "cdk deploy P C",
    "cdk deploy P C --concurrency 2",
    "cdk deploy P C --concurrency 8",
    "cdk deploy C",  # upstream P is added and goes first
    "cdk deploy --all",
])
def test_changed_export_in_use_fails_whatever_the_command(line: str) -> None:
    # The explainer's "deploy both together" fix, disproved.
    result = deploy(BASE, (VALUE_CHANGED, line))
    assert result.error == f"P: Cannot update export {EXPORT} as it is in use by C"
    assert result.state["P"].spec.template == "P@v1"  # rolled back


def test_deleted_export_in_use_fails() -> None:
    head = version("head", spec("P", "v2"), spec("C", "v2"))
    result = deploy(BASE, (head, "cdk deploy P C"))
    assert result.error == f"P: Export {EXPORT} cannot be deleted as it is in use by C"


def test_consumer_first_exclusively_then_producer_succeeds() -> None:
    head = version("head", spec("P", "v2"), spec("C", "v2"))
    result = deploy(BASE, (head, "cdk deploy C --exclusively"), (head, "cdk deploy P --exclusively"))
    assert result.ok and result.error is None
    assert EXPORT not in result.state["P"].spec.exports


def test_import_of_missing_export_fails() -> None:
    head = version("head", spec("C", "v2", imports=frozenset({"nope"})))
    result = deploy(version("base", spec("C")), (head, "cdk deploy C"))
    assert result.error == "C: No export named nope found"


def test_duplicate_export_name_fails() -> None:
    base = version("base", spec("A", exports={"x": "1"}), spec("B"))
    head = version("head", spec("A", exports={"x": "1"}), spec("B", "v2", exports={"x": "2"}))
    assert deploy(base, (head, "cdk deploy B")).error == "B: Export with name x is already exported by stack A"


def test_new_reference_needs_producer_first_and_cli_orders_it() -> None:
    base = version("base", spec("P"), spec("C"))
    head = version(
        "head",
        spec("P", "v2", exports={"new": "1"}),
        spec("C", "v2", dependencies=frozenset({"P"}), imports=frozenset({"new"})),
    )
    assert deploy(base, (head, "cdk deploy P C")).ok
    assert deploy(base, (head, "cdk deploy C --exclusively")).error == "C: No export named new found"


def test_undeclared_dependency_in_one_wave_is_judged_pessimistically() -> None:
    # Hand-named imports create no CDK dependency: one command may run them in any order.
    base = version("base", spec("P"), spec("C"))
    head = version("head", spec("P", "v2", exports={"new": "1"}), spec("C", "v2", imports=frozenset({"new"})))
    assert deploy(base, (head, "cdk deploy P C")).error == "C: No export named new found"
    assert deploy(base, (head, "cdk deploy P --exclusively"), (head, "cdk deploy C --exclusively")).ok


WEAK_BASE = version(
    "base",
    spec("P", outputs={"Out": "arn:v1"}),
    spec("C", dependencies=frozenset({"P"}), weak_reads=frozenset({("P", "Out")})),
)
WEAK_HEAD = version(
    "head",
    spec("P", "v2", outputs={"Out": "arn:v2"}),
    spec("C", dependencies=frozenset({"P"}), weak_reads=frozenset({("P", "Out")})),
)


def test_weak_reference_producer_alone_leaves_consumer_stale() -> None:
    result = deploy(WEAK_BASE, (WEAK_HEAD, "cdk deploy P --exclusively"))
    assert result.error is None
    assert result.stale == ("C still holds the old value of P.Out",)
    assert not result.ok


def test_unchanged_consumer_template_is_skipped_unless_forced() -> None:
    skipped = deploy(WEAK_BASE, (WEAK_HEAD, "cdk deploy P C"))
    assert skipped.steps[0].skipped == ("C",)
    assert skipped.stale
    forced = deploy(WEAK_BASE, (WEAK_HEAD, "cdk deploy P C --force"))
    assert forced.ok and forced.steps[0].deployed == ("P", "C")


def test_ssm_consumer_is_always_redeployed() -> None:
    base = version("base", spec("P", ssm_writes={"/p": "v1"}),
                   spec("C", dependencies=frozenset({"P"}), ssm_reads=frozenset({"/p"})))
    head = version("head", spec("P", "v2", ssm_writes={"/p": "v2"}),
                   spec("C", dependencies=frozenset({"P"}), ssm_reads=frozenset({"/p"})))
    assert deploy(base, (head, "cdk deploy P C")).ok
    assert deploy(base, (head, "cdk deploy P --exclusively")).stale == ("C still holds the old value of /p",)


def test_selection_hierarchical_ids_globs_and_upstream() -> None:
    v = version(
        "v",
        spec("Prod/Compute"),
        spec("Prod/Admin", dependencies=frozenset({"Prod/Compute"})),
        spec("Dev/Compute"),
    )
    parse = parse_deploy
    assert select(v, parse("cdk deploy 'Prod/*'")) == ["Prod/Admin", "Prod/Compute"]  # type: ignore[arg-type]
    assert select(v, parse("cdk deploy Prod/Admin")) == ["Prod/Admin", "Prod/Compute"]  # type: ignore[arg-type]
    assert select(v, parse("cdk deploy Prod/Admin --exclusively")) == ["Prod/Admin"]  # type: ignore[arg-type]
    assert select(v, parse("cdk deploy '**'")) == ["Dev/Compute", "Prod/Admin", "Prod/Compute"]  # type: ignore[arg-type]
    with pytest.raises(SelectionError, match="No stack found matching 'Nope'"):
        select(v, parse("cdk deploy Nope"))  # type: ignore[arg-type]
    with pytest.raises(SelectionError, match="specify `--all`"):
        select(v, parse("cdk deploy"))  # type: ignore[arg-type]


def test_waves_and_concurrency_width() -> None:
    v = version(
        "v",
        spec("P"),
        spec("C1", dependencies=frozenset({"P"})),
        spec("C2", dependencies=frozenset({"P"})),
        spec("D", dependencies=frozenset({"C1"})),
    )
    assert waves(v, v.stacks) == [["P"], ["C1", "C2"], ["D"]]
    assert widest_wave(v, v.stacks) == 2
    assert widest_wave(v, ["P", "C1"]) == 1


def test_selection_error_is_a_failed_step() -> None:
    result = deploy(BASE, (VALUE_CHANGED, "cdk deploy Missing"))
    assert result.error == "No stack found matching 'Missing'"


# --- check_update against the rules read one by one ------------------------------------

def _rules_one_by_one(state: dict[str, Deployed], new: StackSpec) -> str | None:
    """DOMAIN.md's rules as plainly as they read: every export and import looked up in full."""
    def importers(export: str) -> list[str]:
        return sorted(n for n, d in state.items() if n != new.name and export in d.spec.imports)

    def exporters(export: str) -> list[str]:
        return sorted(n for n, d in state.items() if export in d.spec.exports)

    current = state.get(new.name)
    if current is not None:
        for export, token in sorted(current.spec.exports.items()):
            users = importers(export)
            if users and export not in new.exports:
                return f"Export {export} cannot be deleted as it is in use by {users[0]}"
            if users and new.exports[export] != token:
                return f"Cannot update export {export} as it is in use by {users[0]}"
    for export in sorted(new.exports):
        others = [n for n in exporters(export) if n != new.name]
        if others:
            return f"Export with name {export} is already exported by stack {others[0]}"
    for export in sorted(new.imports):
        if not [n for n in exporters(export) if n != new.name]:
            return f"No export named {export} found"
    return None


_NAMES = st.sampled_from(["a", "b", "c", "d"])
_STACKS = ["S1", "S2", "S3", "S4"]


@st.composite
def _state_and_update(draw: st.DrawFn) -> tuple[dict[str, Deployed], StackSpec]:
    owner = {e: draw(st.sampled_from(_STACKS)) for e in draw(st.sets(_NAMES))}  # one owner per export
    tokens = st.sampled_from(["1", "2"])
    state = {}
    for name in _STACKS:
        exports = {e: draw(tokens) for e, o in owner.items() if o == name}
        state[name] = Deployed(spec(name, exports=exports, imports=frozenset(draw(st.sets(_NAMES)))))
    name = draw(st.sampled_from(_STACKS))
    new = spec(name, "v2", exports={e: draw(tokens) for e in draw(st.sets(_NAMES))},
               imports=frozenset(draw(st.sets(_NAMES))))
    return state, new


@settings(max_examples=examples(400), deadline=None)
@given(_state_and_update())
def test_check_update_says_what_the_rules_read_one_by_one_say(case: tuple[dict[str, Deployed], StackSpec]) -> None:
    # check_update looks up only the names that can break a rule; the first error it
    # reports must be the one reading every rule in full gives.
    state, new = case
    assert check_update(state, new) == _rules_one_by_one(state, new)
