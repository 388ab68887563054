"""The pure core: what two cloud assemblies say, and what breaks between them.

Owns the model (``model``), loading an assembly from disk without trusting it
(``assembly``, ``bounded_json``), CloudFormation's intrinsics and replacement rules
(``intrinsics``, ``changes``, ``schemas``), the reference graph (``references``), the
analysis context (``context``), the rules (``rules/``), running them (``analysis``), and
reading a report back (``report_loader``), and the aws-cdk-lib version in a
template's ``CDKMetadata`` (``cdk_metadata``). Small helpers every layer uses live here too:
secret masking, SemVer, lazy imports, the garbage-collector pause.

May import: nothing above it. No network, no subprocess; the only I/O is reading the
assembly and report files it is pointed at.
"""
