"""Benchmarks: `python -m bench NAME` (or `./dev bench NAME`). See bench/__main__.py."""
