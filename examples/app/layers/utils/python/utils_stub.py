"""Shared helpers for the example's functions."""


def greet(name: str) -> str:
    return f"hello {name}"
