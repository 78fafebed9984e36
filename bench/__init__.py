"""Benchmarks: python -m bench.<name> prints one line of timings."""
