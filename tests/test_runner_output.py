"""Workflow commands: ours are escaped, everything else is inert."""

from __future__ import annotations

import pytest

from bot.github.runner_output import add_mask_lines, command, inert


def test_echoed_text_cannot_start_a_command() -> None:
    text = "ok\n::error::x\n  ::set-output name=a::b\r##[warning]y\n::stop-commands::tok"
    lines = inert(text).splitlines()
    assert lines[0] == "ok"
    assert not [line for line in lines if line.lstrip().startswith(("::", "##["))]
    assert "error::x" in lines[1] and "set-output" in lines[2]


def test_our_commands_keep_their_message_on_one_line() -> None:
    line = command("warning", "a\nb\r::error::c 100%")
    assert line == "::warning::a%0Ab%0D::error::c 100%25"
    assert "\n" not in line


def test_known_secrets_are_masked_and_announced() -> None:
    assert "hunter2hunter2" not in inert("pw hunter2hunter2", ["hunter2hunter2"])
    assert add_mask_lines(["ghs_abcdefgh", "short", "two\nlines-here"]) == [
        "::add-mask::ghs_abcdefgh", "::add-mask::lines-here"]


@pytest.mark.synth
def test_the_cli_masks_a_failed_synths_output(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import sys

    from bot.cli.main import main

    app = tmp_path / "app"
    app.mkdir()
    (app / "leak.py").write_text("print('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')\n"
                                 "print('::error::forged')\nraise SystemExit(1)\n")
    code = main(["synth", "--app-dir", str(app), "--out", str(tmp_path / "out"), "--app", f"{sys.executable} leak.py"])
    err = capsys.readouterr().err
    assert code == 2 and "wJalrXUtnFEMI" not in err and "****" in err
    assert not [line for line in err.splitlines() if line.lstrip().startswith("::")]
