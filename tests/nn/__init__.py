"""nn differential tests (a package so that test_bites.py may share its name with tests/ops/test_bites.py)."""
