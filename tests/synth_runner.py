"""One long-lived process that synthesizes many Python CDK apps, as ``cdk synth`` runs each.

Started by ``tests/batch_synth.py`` as a script (``python tests/synth_runner.py SCRATCH``,
so ``sys.path`` is what ``python app.py`` gets, the script's folder aside), in ``SCRATCH``
and with the CLI's environment for an app whose assembly folder is ``SCRATCH/cdk.out``.
It imports aws_cdk once: jsii's Node kernel loads aws-cdk-lib once, which is most of a
small synth's CPU time. Then, one JSON request per line on stdin, one JSON answer per line
on the protocol pipe (the process's stdout at start; what an app prints goes to stderr):

- request: ``{"app": APP_DIR, "env": {...}, "context": {...}, "out": OUT_DIR}``: ``env`` is
  the environment ``python app.py`` would get (``os.environ`` while the app runs),
  ``context`` the CLI's merged context;
- answer: ``{"ok": true}`` once ``OUT_DIR`` holds the assembly, else ``{"ok": false, "error": ...}``.

Why the result is what the CLI writes: aws-cdk-lib reads ``CDK_OUTDIR``, the context and
the other variables from *Node's* environment, fixed when the kernel started; so the
assembly folder is always ``SCRATCH/cdk.out`` (moved to ``OUT_DIR`` afterwards) and the
context comes through ``CONTEXT_OVERFLOW_LOCATION_ENV``, a JSON file the CLI uses for large
contexts, read by ``App`` at construction and merged over ``CDK_CONTEXT_JSON`` (aws-cdk-lib
``core/lib/app.ts``, ``loadContext``). aws-cdk-lib caches staged assets per source path
for the whole process (``AssetStaging.assetCache``), which would skip copying an asset into
a later assembly folder: cleared before each app. The app runs in its own folder with its
own ``sys.path[0]``; its modules are dropped afterwards, so two apps' same-named modules
never meet. Node's working directory stays ``SCRATCH``, which holds no asset: an app whose
asset paths are relative to its folder fails here (and is synthesized alone instead) rather
than staging the wrong files. After any failure the caller ends this process.
"""

from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

# The variable naming the context file (aws-cdk-lib cx-api: CONTEXT_OVERFLOW_LOCATION_ENV).
CONTEXT_FILE_ENV = "CONTEXT_OVERFLOW_LOCATION_ENV"
ASSEMBLY = "cdk.out"


def main(scratch: Path, protocol: TextIO) -> int:
    import aws_cdk  # the kernel starts here, with this process's environment, once

    aws_cdk.AssetStaging.clear_asset_hash_cache()  # loads aws-cdk-lib now, before the first request
    started_env = dict(os.environ)
    base_path = sys.path[1:]  # without this script's folder, as `python app.py` has its own there
    _answer(protocol, {"ok": True, "ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            _synthesize(request, scratch, started_env, base_path, aws_cdk.AssetStaging)
            _answer(protocol, {"ok": True})
        except BaseException as exc:  # noqa: BLE001 - anything an app raises is its answer
            _answer(protocol, {"ok": False, "error": _describe(exc)})
        finally:
            os.chdir(scratch)
            os.environ.clear()
            os.environ.update(started_env)
    return 0


def _synthesize(request: dict[str, Any], scratch: Path, started_env: dict[str, str], base_path: list[str],
                staging: Any) -> None:
    app, out = Path(request["app"]), Path(request["out"])
    env: dict[str, str] = request["env"]
    node_sees = {k: v for k, v in started_env.items() if k != CONTEXT_FILE_ENV}
    if {k: v for k, v in env.items() if k != "CDK_CONTEXT_JSON"} != node_sees:
        raise RuntimeError("this runner was started for another environment")  # the caller's bug
    assembly = scratch / ASSEMBLY
    shutil.rmtree(assembly, ignore_errors=True)
    Path(started_env[CONTEXT_FILE_ENV]).write_text(json.dumps(request["context"]), encoding="utf-8")
    staging.clear_asset_hash_cache()
    modules = set(sys.modules)
    os.chdir(app)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["app.py"]
    sys.path[:] = [str(app), *base_path]
    try:
        runpy.run_path(str(app / "app.py"), run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    finally:
        sys.path[:] = base_path
        _forget_modules(app, modules)
    if not (assembly / "manifest.json").is_file():
        raise RuntimeError("the app wrote no manifest.json (does it call app.synth()?)")
    shutil.move(assembly, out)


def _forget_modules(app: Path, before: set[str]) -> None:
    """Drop the modules the app imported from its own folder; libraries stay loaded."""
    for name in set(sys.modules) - before:
        origin = getattr(sys.modules[name], "__file__", None) or ""
        if origin and Path(origin).resolve().is_relative_to(app.resolve()):
            del sys.modules[name]


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-20:])


def _answer(protocol: TextIO, message: dict[str, Any]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


if __name__ == "__main__":
    # The protocol keeps the original stdout; fd 1 becomes stderr, so an app's prints
    # (Python's or Node's) never mix with the answers.
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    raise SystemExit(main(Path(sys.argv[1]).resolve(), answers))
