"""Locating constructs and strings in a CDK app's source; the app's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.plans.source import SourceLocation, app_command_language, app_language, locate_construct, locate_string

REPOS = Path(__file__).parent / "fixtures" / "repos"


@pytest.mark.parametrize(
    ("app", "language"),
    [
        ("python3 app.py", "python"),
        ("python app.py", "python"),
        (".venv/bin/python app.py", "python"),
        ("pipenv run python app.py", "python"),
        ("poetry run python3 -m app", "python"),
        ("uv run app.py", "python"),
        ("npx ts-node --prefer-ts-exts bin/app.ts", "typescript"),
        ("npx tsx bin/app.ts", "typescript"),
        ("node -r ts-node/register bin/app.ts", "typescript"),
        ("node bin/app.js", "javascript"),
        ("node bin/app.mjs", "javascript"),
        ("mvn -e -q compile exec:java", "java"),
        ("./gradlew run", "java"),
        ("dotnet run -p src/MyApp/MyApp.csproj", "csharp"),
        ("go mod download && go run my-app.go", "go"),
        ("cdk.out", None),
        ("", None),
    ],
)
def test_app_command_language(app: str, language: str | None) -> None:
    assert app_command_language(app) == language


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("repo_github_subset", "python"),
        ("repo_pipeline_buildspec", "python"),
        ("repo_ok", "javascript"),
        ("repo_ts", "typescript"),
    ],
)
def test_app_language_of_fixtures(name: str, language: str) -> None:
    assert app_language(REPOS / name) == language


def test_app_language_without_a_usable_cdk_json(tmp_path: Path) -> None:
    assert app_language(tmp_path) is None
    (tmp_path / "cdk.json").write_text("{not json")
    assert app_language(tmp_path) is None
    (tmp_path / "cdk.json").write_text('{"app": ["python3", "app.py"]}')
    assert app_language(tmp_path) is None


@pytest.mark.parametrize(
    ("name", "construct_path", "expected"),
    [
        (
            "repo_github_subset",
            "Example-ComputeStack/StrandsLayer/Resource",
            ("stacks/compute_stack.py", 14, "self.layer = _lambda.LayerVersion(", "python"),
        ),
        (
            # Same id in two stacks: the stack's own class decides.
            "repo_github_subset",
            "Example-ApiStack/StrandsLayer",
            ("stacks/api_stack.py", 16, "pinned = _lambda.LayerVersion.from_layer_version_arn(", "python"),
        ),
        (
            "repo_github_subset",
            "Example-ApiStack/Handler/ServiceRole/Resource",
            ("stacks/api_stack.py", 19, "_lambda.Function(", "python"),
        ),
        (
            "repo_github_subset",
            "Example-ComputeStack",
            ("app.py", 7, 'compute = ComputeStack(app, "Example-ComputeStack")', "python"),
        ),
        (
            # keyword arguments: LayerVersion(scope=self, id="StrandsLayer", ...)
            "repo_pipeline_buildspec",
            "E-Com67-ComputeStack/StrandsLayer/Resource",
            ("stacks/compute_stack.py", 11, "self.layer = _lambda.LayerVersion(", "python"),
        ),
        (
            "repo_pipeline_buildspec",
            "E-Com67-BackendPipelineStack/DeployProject/Resource",
            ("stacks/backend_pipeline_stack.py", 19, "codebuild.PipelineProject(", "python"),
        ),
        (
            "repo_ts",
            "ComputeStack/StrandsLayer/Resource",
            (
                "lib/compute-stack.ts",
                11,
                "this.layer = new lambda.LayerVersion(this, 'StrandsLayer', {",
                "typescript",
            ),
        ),
        (
            "repo_ts",
            "AdminStack/AdminHandler/ServiceRole/Resource",
            ("lib/admin-stack.ts", 14, "new lambda.Function(this, 'AdminHandler', {", "typescript"),
        ),
        (
            "repo_ok",
            "Ok-ComputeStack/StrandsLayer/Resource",
            (
                "lib/compute-stack.js",
                7,
                'this.layer = new lambda.LayerVersion(this, "StrandsLayer", {',
                "javascript",
            ),
        ),
    ],
)
def test_locate_construct(name: str, construct_path: str, expected: tuple[str, int, str, str]) -> None:
    assert locate_construct(REPOS / name, construct_path) == SourceLocation(*expected)


@pytest.mark.parametrize(
    "construct_path",
    ["Example-ComputeStack/Missing/Resource", "Nope/Missing", "", "Resource"],
)
def test_locate_construct_not_found(construct_path: str) -> None:
    assert locate_construct(REPOS / "repo_github_subset", construct_path) is None


def test_language_can_be_forced() -> None:
    app = REPOS / "repo_github_subset"
    assert locate_construct(app, "Example-ComputeStack/StrandsLayer", language="typescript") is None
    found = locate_construct(app, "Example-ComputeStack/StrandsLayer", language="python")
    assert found is not None and found.line == 14


STAGE_APP = {
    "cdk.json": '{"app": "python3 app.py"}',
    "app.py": (
        "import aws_cdk as cdk\n"
        "from pipeline.stage import AppStage\n"
        "\n"
        "app = cdk.App()\n"
        'AppStage(app, "Prod")\n'
    ),
    "pipeline/stage.py": (
        "import aws_cdk as cdk\n"
        "from stacks.all import ComputeStack, EdgeStack\n"
        "\n"
        "\n"
        "class AppStage(cdk.Stage):\n"
        "    def __init__(self, scope, construct_id):\n"
        "        super().__init__(scope, construct_id)\n"
        '        EdgeStack(self, "Edge")\n'
        '        ComputeStack(self, "Compute")\n'
    ),
    "stacks/all.py": (
        "import aws_cdk as cdk\n"
        "from aws_cdk import aws_lambda as _lambda\n"
        "\n"
        "\n"
        "class EdgeStack(cdk.Stack):\n"
        "    def __init__(self, scope, construct_id):\n"
        "        super().__init__(scope, construct_id)\n"
        '        _lambda.LayerVersion(self, "Layer", code=_lambda.Code.from_asset("edge"))\n'
        "\n"
        "\n"
        "class ComputeStack(cdk.Stack):\n"
        "    def __init__(self, scope, construct_id):\n"
        "        super().__init__(scope, construct_id)\n"
        "        _lambda.LayerVersion(\n"
        '            self, "Layer", code=_lambda.Code.from_asset("compute")\n'
        "        )\n"
    ),
    # Tests, generated and vendored code never count.
    "tests/test_stack.py": '_lambda.LayerVersion(self, "Layer")\n',
    "cdk.out/asset.1234/index.py": 'LayerVersion(self, "Layer")\n',
    ".venv/lib/x.py": 'LayerVersion(self, "Layer")\n',
    "stacks/test_all.py": 'LayerVersion(self, "Layer")\n',
}


def write_app(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_stage_paths_prefer_the_class_of_the_enclosing_stack(tmp_path: Path) -> None:
    app = write_app(tmp_path, STAGE_APP)
    compute = locate_construct(app, "Prod/Compute/Layer/Resource")
    edge = locate_construct(app, "Prod/Edge/Layer/Resource")
    assert compute == SourceLocation("stacks/all.py", 14, "_lambda.LayerVersion(", "python")
    assert edge is not None and (edge.path, edge.line) == ("stacks/all.py", 8)


def test_ambiguous_match_is_deterministic(tmp_path: Path) -> None:
    app = write_app(tmp_path, {"b.py": 'X(self, "Dup")\n', "a.py": '\n\nY(self, "Dup")\n'})
    assert locate_construct(app, "Unknown/Dup") == SourceLocation("a.py", 3, 'Y(self, "Dup")', "python")


def test_other_languages(tmp_path: Path) -> None:
    app = write_app(
        tmp_path,
        {
            "src/main/java/App.java": 'LayerVersion layer = LayerVersion.Builder.create(this, "JLayer")\n',
            "src/App.cs": 'var layer = new LayerVersion(this, "CsLayer", new LayerVersionProps());\n',
            "app.go": 'layer := awslambda.NewLayerVersion(stack, jsii.String("GoLayer"), nil)\n',
        },
    )
    java = locate_construct(app, "S/JLayer/Resource")
    csharp = locate_construct(app, "S/CsLayer/Resource")
    go = locate_construct(app, "S/GoLayer/Resource")
    assert java is not None and (java.path, java.language) == ("src/main/java/App.java", "java")
    assert csharp is not None and (csharp.path, csharp.language) == ("src/App.cs", "csharp")
    assert go is not None and (go.path, go.line, go.language) == ("app.go", 1, "go")


def test_locate_string() -> None:
    assert locate_string(REPOS / "repo_github_subset", "Example-ComputeStack") == [
        SourceLocation("app.py", 7, 'compute = ComputeStack(app, "Example-ComputeStack")', "python")
    ]
    assert locate_string(REPOS / "repo_ts", "ComputeStack") == [
        SourceLocation("bin/app.ts", 8, "const compute = new ComputeStack(app, 'ComputeStack');", "typescript")
    ]
    assert locate_string(REPOS / "repo_ts", "Compute") == []


def test_hostile_files_are_skipped(tmp_path: Path) -> None:
    outside = write_app(tmp_path / "outside", {"evil.py": 'X(self, "Layer")\n'})
    app = write_app(tmp_path / "app", {"cdk.json": '{"app": "python3 app.py"}'})
    (app / "link.py").symlink_to(outside / "evil.py")
    (app / "linked").symlink_to(outside, target_is_directory=True)
    (app / "binary.py").write_bytes(b'X(self, "Layer")\x00')
    (app / "big.py").write_text('X(self, "Layer")\n' + "#" * (5 * 1024 * 1024))
    assert locate_construct(app, "S/Layer") is None
    assert locate_string(app, "Layer") == []
