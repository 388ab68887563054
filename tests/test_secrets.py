"""Masking free text that leaves the process: synth output, `cdk diff`, errors."""

from __future__ import annotations

import pytest

from bot.core.secrets import MASK, mask_text

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5" * 4
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


@pytest.mark.parametrize("line", [
    f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}",
    f"aws_secret_access_key = {AWS_SECRET}",
    f"credentials: {AWS_KEY_ID} {AWS_SECRET}",
    f"Parameters:\n  GitHubToken:\n    Default: {GITHUB_TOKEN}",
    f"[~] AWS::Lambda::Function Fn\n    ├─ STRIPE_KEY: {STRIPE}",
    "DB_PASSWORD: hunter2hunter2",
    '"password": "correct horse battery"',
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
])
def test_credentials_in_free_text_are_masked(line: str) -> None:
    masked = mask_text(line)
    for secret in (AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, STRIPE, "hunter2hunter2", "correct", "MIIEowIBAAKCAQEA"):
        assert secret not in masked
    assert MASK in masked


def test_known_secrets_are_masked_whatever_they_look_like() -> None:
    assert mask_text("token is plainword123 here", known=["plainword123", "abc"]) == f"token is {MASK} here"


@pytest.mark.parametrize("line", [
    "Resources: [~] AWS::Lambda::LayerVersion Layer replace",
    "asset a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1",
    "commit 0123456789abcdef0123456789abcdef01234567",
    "Cannot update export Producer:ExportsOutputRefLayerC6B2F2B4 as it is in use by Consumer",
    "arn:aws:lambda:us-east-1:123456789012:layer:shared:7",
])
def test_ordinary_output_is_left_alone(line: str) -> None:
    assert mask_text(line) == line


def test_known_secrets_alone_leave_look_alikes() -> None:
    from bot.core.secrets import mask_known

    export = "ExportsOutputFnGetAttQueueArn4A7E3555Ab"  # 40 characters, mixed case and digits
    assert mask_known(f"{export} ghs_secretvalue", ["ghs_secretvalue"]) == f"{export} {MASK}"
