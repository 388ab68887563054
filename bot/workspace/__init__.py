"""The app's repository and the CDK toolchain: the I/O edge that builds assemblies.

Owns running the ``cdk`` CLI (``synth``, ``cdk_diff``), checking out the base tree
(``checkout``), the synth cache (``synth_cache``), reading an untrusted repository safely
(``files``), and cancellation when CI stops the job (``cancel``).

May import: ``core``.
"""
