"""Load benchmarks of the API against a bare baseline: `python -m bench --help`."""
