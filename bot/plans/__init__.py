"""Plans: the fix for each finding, checked before anyone is told it works.

Owns the planner and its strategies (``planner``), the deploy simulator (``simulate``)
and app versions it runs (``versions``), `cdk deploy` command lines (``deploy_command``)
and where the repository runs them (``deploy_scan``, ``deploy_sites``), source locations
and patches (``source``, ``patches``, ``snippets``), verification by synthesis
(``states``, ``verify``), and CDK Pipelines (``pipelines/``).

May import: ``core``, and ``workspace`` (to synthesize plan states and read the source).
"""
