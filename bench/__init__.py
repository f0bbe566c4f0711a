"""Benchmarks: `make bench` (all) or `python -m bench.run NAME...` (some). See bench/README.md."""
