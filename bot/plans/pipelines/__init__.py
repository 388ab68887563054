"""CDK Pipelines: the stage order a synthesized pipeline deploys in (``deploy``), its
simulation (``simulate``), the plans that fit it (``plans``) and their check on
synthesized releases (``verify``).

May import: ``core``, ``workspace`` and the rest of ``plans``.
"""
