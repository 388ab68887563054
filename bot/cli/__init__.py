"""Entry points: ``main`` parses the command line; one module per subcommand
(``add_parser(subparsers)`` and ``main(args) -> int``); ``orchestrate`` wires the stages:
synthesize, analyze, plan, verify, live facts, render.

May import: every package (``core``, ``workspace``, ``plans``, ``live``, ``render``,
``github``); nothing imports it.
"""
