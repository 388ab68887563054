"""Stand-in for the Strands agents SDK (head: a new release)."""

VERSION = "1.1.0"


def new_feature() -> str:
    return "added in 1.1.0"
