"""CDK Pipelines: the stage order a synthesized pipeline deploys in (``deploy``), its
simulation (``simulate``, ``runs``), the plans that fit it (``plans``, one module per
strategy in ``strategies``, with ``edits``) and their check on
synthesized releases (``verify``).

May import: ``core``, ``workspace`` and the rest of ``plans``.
"""
