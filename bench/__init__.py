"""Benchmarks (not tests): ``python -m bench motion|trails|loop|matte|hw|studio|scale``."""
