"""Live mode: what the AWS account has deployed, as one optional input to the offline result.

``aws`` is the boto3 edge that reads the facts (``facts``); ``adjust`` is the pure half
that decides what to read and turns the facts into findings and plans.

May import: ``core``, ``workspace`` (cancellation) and ``plans``.
"""
