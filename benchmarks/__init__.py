"""Benchmarks of the project: run them with ``python benchmarks/run.py --help``."""
