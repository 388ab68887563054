"""Benchmarks: generated large cloud assemblies (``bench.generate``) and the runner (``bench.run``)."""
