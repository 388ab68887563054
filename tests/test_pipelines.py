"""Finding `cdk deploy` in a repository, and rewriting one in place."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.core.model import PipelineEdit
from bot.plans.deploy_scan import find_deploy_sites, scan_text
from bot.plans.deploy_sites import DeploySite, EditError, propose_edit, unified_diff

REPOS = Path(__file__).parent / "fixtures" / "repos"

# (path, line, origin, selectors, --all, --exclusively, --concurrency)
Row = tuple[str, int, str, tuple[str, ...], bool, bool, int]

EXPECTED: dict[str, list[Row]] = {
    "repo_github_subset": [
        (".github/workflows/deploy.yml", 17, "github-workflow", ("Example-ComputeStack",), False, False, 1),
        (".github/workflows/deploy.yml", 22, "github-workflow", ("Example-ComputeStack",), False, False, 1),
    ],
    "repo_pipeline_buildspec": [
        ("buildspec.yml", 13, "buildspec", ("E-Com67-ComputeStack",), False, False, 1),
        ("buildspec.yml", 14, "buildspec", ("E-Com67-Admin*",), False, True, 1),
        ("ci/buildspec-frontend.yaml", 7, "buildspec", ("E-Com67-FrontendStack",), False, False, 1),
        ("stacks/backend_pipeline_stack.py", 12, "cdk-source", ("E-Com67-AdminStack",), False, False, 1),
        ("stacks/backend_pipeline_stack.py", 30, "cdk-source", ("E-Com67-ComputeStack",), False, False, 1),
    ],
    "repo_ok": [
        (".github/workflows/release.yaml", 13, "github-workflow", (), True, False, 2),
    ],
    "repo_ts": [
        ("Makefile", 7, "makefile", (), True, False, 1),
        ("Makefile", 10, "makefile", ("ComputeStack",), False, False, 1),
        ("lib/pipeline-stack.ts", 19, "cdk-source", ("ComputeStack",), False, False, 1),
        ("lib/pipeline-stack.ts", 20, "cdk-source", ("${stage}/*",), False, True, 1),
        ("package.json", 8, "package-json", ("ComputeStack", "AdminStack"), False, False, 1),
        ("package.json", 9, "package-json", ("Prod/*",), False, False, 1),
        ("scripts/deploy.sh", 6, "shell", ("ComputeStack",), False, False, 1),
        ("scripts/deploy.sh", 6, "shell", ("AdminStack",), False, True, 1),
        ("scripts/deploy.sh", 8, "shell", ("Prod/*",), False, False, 3),
    ],
}


def row(site: DeploySite) -> Row:
    c = site.command
    return (site.path, site.line, site.origin, c.selectors, c.all_stacks, c.exclusively, c.concurrency)


def sites_of(name: str) -> list[DeploySite]:
    return find_deploy_sites(REPOS / name)


def site_at(name: str, path: str, line: int, index: int = 0) -> DeploySite:
    return [s for s in sites_of(name) if s.path == path and s.line == line][index]


def apply(edit: PipelineEdit, text: str) -> str:
    lines = text.split("\n")
    before = edit.before.split("\n")
    assert lines[edit.line - 1 : edit.line - 1 + len(before)] == before
    lines[edit.line - 1 : edit.line - 1 + len(before)] = edit.after.split("\n")
    return "\n".join(lines)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_sites_per_fixture(name: str) -> None:
    assert [row(s) for s in sites_of(name)] == EXPECTED[name]


def test_site_text_is_the_full_line_and_span_is_the_command() -> None:
    site = site_at("repo_github_subset", ".github/workflows/deploy.yml", 17)
    assert site.text == "        run: npx cdk deploy Example-ComputeStack --require-approval never"
    assert site.text[site.column : site.end_column] == site.command.raw
    assert site.command.runner == ("npx", "cdk")
    assert site.command.options == ("--require-approval", "never")


def test_continued_command_in_a_run_block_reports_its_first_line() -> None:
    site = site_at("repo_github_subset", ".github/workflows/deploy.yml", 22)
    assert site.text.strip() == "cdk deploy Example-ComputeStack \\"
    assert (site.line, site.end_line) == (22, 24)
    assert site.command.raw == (
        "cdk deploy Example-ComputeStack --require-approval never --context stage=prod"
    )


def test_two_commands_on_one_line_are_two_sites() -> None:
    first, second = (s for s in sites_of("repo_ts") if s.path == "scripts/deploy.sh" and s.line == 6)
    assert first.text[first.column : first.end_column] == first.command.raw
    assert second.text[second.column : second.end_column] == second.command.raw
    assert first.end_column < second.column


def test_workflow_edit_keeps_indentation_and_key() -> None:
    site = site_at("repo_github_subset", ".github/workflows/deploy.yml", 17)
    edit = propose_edit(site, "npx cdk deploy Example-ComputeStack Example-ApiStack --require-approval never")
    assert edit == PipelineEdit(
        ".github/workflows/deploy.yml",
        17,
        "        run: npx cdk deploy Example-ComputeStack --require-approval never",
        "        run: npx cdk deploy Example-ComputeStack Example-ApiStack --require-approval never",
    )


def test_continued_command_edit_replaces_all_its_lines() -> None:
    path = REPOS / "repo_github_subset" / ".github/workflows/deploy.yml"
    site = site_at("repo_github_subset", ".github/workflows/deploy.yml", 22)
    edit = propose_edit(site, "cdk deploy Example-ComputeStack Example-ApiStack --context stage=prod")
    assert edit.before.count("\n") == 2
    edited = yaml.safe_load(apply(edit, path.read_text()))
    assert edited["jobs"]["deploy"]["steps"][4]["run"] == (
        'echo "deploying"\n'
        "# cdk deploy Example-ApiStack  (commented out)\n"
        "cdk deploy Example-ComputeStack Example-ApiStack --context stage=prod\n"
        "echo done\n"
    )


def test_buildspec_edits_stay_valid_yaml() -> None:
    path = REPOS / "repo_pipeline_buildspec" / "buildspec.yml"
    plain = site_at("repo_pipeline_buildspec", "buildspec.yml", 13)
    quoted = site_at("repo_pipeline_buildspec", "buildspec.yml", 14)
    text = apply(propose_edit(plain, "cdk deploy E-Com67-ComputeStack E-Com67-ApiStack"), path.read_text())
    text = apply(propose_edit(quoted, 'cdk deploy "E-Com67-Admin*" -e'), text)
    commands = yaml.safe_load(text)["phases"]["build"]["commands"]
    assert commands == [
        "cdk synth",
        "cdk deploy E-Com67-ComputeStack E-Com67-ApiStack",
        'cdk deploy "E-Com67-Admin*" -e',
    ]


@pytest.mark.parametrize(
    ("line", "new", "expected"),
    [
        (
            30,
            "cdk deploy E-Com67-ComputeStack E-Com67-ApiStack --require-approval never",
            "cdk deploy E-Com67-ComputeStack E-Com67-ApiStack --require-approval never",
        ),
        (
            30,
            "cdk deploy \"E-Com67-*\" 'x' --require-approval never",
            "cdk deploy \"E-Com67-*\" 'x' --require-approval never",
        ),
        (
            12,
            "cdk deploy 'E-Com67-Admin*' --exclusively",
            "cdk deploy 'E-Com67-Admin*' --exclusively && echo 'admin done'",
        ),
    ],
)
def test_python_literal_edit_keeps_a_valid_literal(line: int, new: str, expected: str) -> None:
    path = REPOS / "repo_pipeline_buildspec" / "stacks/backend_pipeline_stack.py"
    site = site_at("repo_pipeline_buildspec", "stacks/backend_pipeline_stack.py", line)
    edit = propose_edit(site, new)
    assert edit.after[site.column - 1] == site.text[site.column - 1] == site.quoting.quote
    tree = ast.parse(apply(edit, path.read_text()))
    values = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.lineno == line]
    assert expected in values


def test_package_json_edit_stays_json() -> None:
    path = REPOS / "repo_ts" / "package.json"
    site = site_at("repo_ts", "package.json", 9)
    edit = propose_edit(site, 'npm run cdk -- deploy "Prod/*" "Dev/*" --require-approval never')
    scripts = json.loads(apply(edit, path.read_text()))["scripts"]
    assert scripts["deploy:prod"] == (
        'npm run build && npm run cdk -- deploy "Prod/*" "Dev/*" --require-approval never'
    )


def test_typescript_template_literal_edit_escapes_interpolation() -> None:
    site = site_at("repo_ts", "lib/pipeline-stack.ts", 20)
    edit = propose_edit(site, "npx cdk deploy '${X}' `y`")
    assert edit.after == "              `npx cdk deploy '\\${X}' \\`y\\``,"


def test_makefile_edit_keeps_recipe_prefix() -> None:
    site = site_at("repo_ts", "Makefile", 10)
    edit = propose_edit(site, "npx cdk deploy ComputeStack AdminStack")
    assert edit.before == "\t@npx cdk deploy ComputeStack \\\n\t\t--require-approval never"
    assert edit.after == "\t@npx cdk deploy ComputeStack AdminStack"


def test_shell_edit_keeps_the_rest_of_the_line() -> None:
    site = site_at("repo_ts", "scripts/deploy.sh", 8)
    edit = propose_edit(site, "cdk deploy 'Prod/*' --concurrency 4")
    assert edit.after == (
        "  CDK_DEFAULT_REGION=eu-west-1 cdk deploy 'Prod/*' --concurrency 4 2>&1 | tee deploy.log"
    )


def test_unified_diff_is_minimal_and_applies(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(REPOS / "repo_github_subset", repo)
    site = site_at("repo_github_subset", ".github/workflows/deploy.yml", 22)
    diff = unified_diff(propose_edit(site, "cdk deploy --all"))
    assert diff == (
        "--- a/.github/workflows/deploy.yml\n"
        "+++ b/.github/workflows/deploy.yml\n"
        "@@ -22,3 +22 @@\n"
        "-          cdk deploy Example-ComputeStack \\\n"
        "-            --require-approval never \\\n"
        "-            --context stage=prod\n"
        "+          cdk deploy --all\n"
    )
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "fix.diff").write_text(diff)
    subprocess.run(["git", "apply", "--unidiff-zero", str(tmp_path / "fix.diff")], cwd=repo, check=True)
    assert find_deploy_sites(repo)[1].command.all_stacks


def test_unknown_position_cannot_be_edited() -> None:
    site = site_at("repo_ok", ".github/workflows/release.yaml", 13)
    unmapped = DeploySite(site.path, site.line, site.text, site.command, site.origin)
    with pytest.raises(EditError):
        propose_edit(unmapped, "cdk deploy --all")
    with pytest.raises(EditError):
        propose_edit(site, "cdk deploy A\ncdk deploy B")


def test_escaped_literals_map_to_their_source() -> None:
    source = 'CMD = "cdk deploy \\x41pi \\"B\\" --force"  # trailing\n'
    (site,) = scan_text("p.py", source, "cdk-source")
    assert site.command.selectors == ("Api", "B")
    assert site.command.force
    edit = propose_edit(site, 'cdk deploy "C"')
    assert edit.after == 'CMD = "cdk deploy \\"C\\""  # trailing'
    assert ast.literal_eval(edit.after.split("=", 1)[1].split("#")[0].strip()) == 'cdk deploy "C"'


WORKFLOW_STYLES = r"""jobs:
  a:
    steps:
      - run: cdk deploy ${{ matrix.stack }} --require-approval never
      - run: |- # a comment on the header
          cdk deploy X
      - run: >
          cdk deploy Y
          --exclusively

          echo hi
      - run: "cdk deploy \"Z\""
      - {run: 'cdk deploy ''Q*'''}
"""


def test_every_yaml_scalar_style_maps_to_real_lines_and_edits_cleanly() -> None:
    sites = scan_text("w.yml", WORKFLOW_STYLES, "github-workflow")
    assert [(s.line, s.end_line, s.command.selectors) for s in sites] == [
        (4, 4, ("${{ matrix.stack }}",)),
        (6, 6, ("X",)),
        (8, 9, ("Y",)),
        (12, 12, ("Z",)),
        (13, 13, ("Q*",)),
    ]
    for index, site in enumerate(sites):
        edited = yaml.safe_load(apply(propose_edit(site, "cdk deploy \"A\" 'B*'"), WORKFLOW_STYLES))
        runs = [step["run"] for step in edited["jobs"]["a"]["steps"]]
        assert runs[index].startswith("cdk deploy \"A\" 'B*'")


def test_comments_docstrings_and_other_tools_are_not_sites() -> None:
    text = '"""Run cdk deploy A by hand."""\n# cdk deploy B\nX = "echo cdk deploy C"\n'
    assert scan_text("a.py", text, "cdk-source") == []
    js = "// cdk deploy A\n/* 'cdk deploy B' */\nconst r = /'/; const s = 'npx cdk deploy C';\n"
    assert [s.command.selectors for s in scan_text("a.ts", js, "cdk-source")] == [("C",)]


# --- hostile repositories ---------------------------------------------------------------


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_symlinks_out_of_the_repo_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside / "deploy.sh", "cdk deploy Secret\n")
    repo = tmp_path / "repo"
    write(repo / "ok.sh", "cdk deploy Inside\n")
    (repo / "link.sh").symlink_to(outside / "deploy.sh")
    (repo / "linked-dir").symlink_to(outside, target_is_directory=True)
    (repo / "loop").symlink_to(repo, target_is_directory=True)
    (repo / "inside.sh").symlink_to(repo / "ok.sh")
    found = [(s.path, s.command.selectors) for s in find_deploy_sites(repo)]
    assert found == [("inside.sh", ("Inside",)), ("ok.sh", ("Inside",))]


def test_big_binary_undecodable_and_special_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "big.sh", "cdk deploy Big\n" + "#" * (5 * 1024 * 1024))
    write(tmp_path / "binary.sh", b"cdk deploy Binary\n\x00\x01\x02")
    write(tmp_path / "latin1.sh", "cdk deploy Caf\xe9\n".encode("latin-1"))
    write(tmp_path / "ok.sh", "cdk deploy Ok\n")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.sh")  # opening it would block forever
    assert [s.path for s in find_deploy_sites(tmp_path)] == ["ok.sh"]


def test_generated_and_vendored_folders_are_skipped(tmp_path: Path) -> None:
    for folder in ("node_modules/aws-cdk", "cdk.out", ".venv/bin", ".git/hooks", "build"):
        write(tmp_path / folder / "deploy.sh", "cdk deploy Hidden\n")
    write(tmp_path / "lib/stack.ts", "new ShellStep('D', { commands: ['cdk deploy FromTs'] });\n")
    write(tmp_path / "lib/stack.js", "new ShellStep('D', { commands: ['cdk deploy FromTs'] });\n")  # tsc output
    write(tmp_path / "sub/.github/workflows/ci.yml", "jobs: {a: {steps: [{run: cdk deploy X}]}}\n")
    assert [(s.path, s.command.selectors) for s in find_deploy_sites(tmp_path)] == [
        ("lib/stack.ts", ("FromTs",))
    ]


def test_broken_files_do_not_crash(tmp_path: Path) -> None:
    write(tmp_path / ".github/workflows/bad.yml", "jobs: [\n  run: cdk deploy A\n")
    write(tmp_path / "buildspec.yml", "phases: !!python/object:os.system {}\n")
    write(tmp_path / "broken.py", "x = 'cdk deploy A'\ndef (:\n")
    write(tmp_path / "package.json", '{"scripts": {"deploy": "cdk deploy A"')
    write(tmp_path / "unterminated.sh", "cdk deploy 'A\n")
    write(tmp_path / "aliases.yml", "")
    found = [(s.path, s.command.selectors) for s in find_deploy_sites(tmp_path)]
    assert found == [("unterminated.sh", ("A",))]


def test_file_count_is_capped(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path / f"s{i}.sh", f"cdk deploy S{i}\n")
    assert [s.path for s in find_deploy_sites(tmp_path, max_files=2)] == ["s0.sh", "s1.sh"]


def test_only_real_deploy_sites_count_not_tests_or_other_strings(tmp_path: Path) -> None:
    """`--repo .`: pipeline step commands count; tests, fixtures and stray strings do not."""
    write(tmp_path / "infra/pipeline_stack.py",
          'pipelines.ShellStep("Deploy", commands=["npm ci", "cdk deploy Prod/*"])\n')
    write(tmp_path / "infra/helpers.py", 'HELP = "run cdk deploy Anything to ship it"\n')
    write(tmp_path / "tests/test_deploy.py", 'assert parse("cdk deploy InTest")\n')
    write(tmp_path / "infra/test_stack.py", 'CMD = "cdk deploy InTestFile"\n')
    write(tmp_path / "src/__tests__/a.test.ts", "new ShellStep('x', {commands: ['cdk deploy InJest']});\n")
    write(tmp_path / "tests/fixtures/repo/deploy.sh", "cdk deploy InFixture\n")
    write(tmp_path / "scripts/deploy.sh", "cdk deploy Real\n")
    found = [(s.path, s.command.selectors) for s in find_deploy_sites(tmp_path)]
    assert found == [("infra/pipeline_stack.py", ("Prod/*",)), ("scripts/deploy.sh", ("Real",))]
