"""Renderers: each is a pure ``render(result) -> str``; only the CLI writes files.

May import: ``core``.
"""
