"""Everything Market test suite."""
