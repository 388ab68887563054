"""Plans: the fix for each finding, checked before anyone is told it works.

Owns the planner (``planner``: entry points, whole-PR grouping, the state and operations
strategies share) and its strategies (``strategies/``: one module per fix, behind
``strategies.base``, listed by rule in ``strategies.BY_RULE``) with what they share
(``value_sites``, ``wording``, ``command_lines``), the deploy simulator (``simulate``)
and app versions it runs (``versions``), `cdk deploy` command lines (``deploy_command``)
and where the repository runs them (``deploy_scan``, ``deploy_sites``), source locations
and patches (``source``, ``patches``, ``snippets``), verification by synthesis
(``states``, ``verify``), and CDK Pipelines (``pipelines/``).

May import: ``core``, and ``workspace`` (to synthesize plan states and read the source).
"""
