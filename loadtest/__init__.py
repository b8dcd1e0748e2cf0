"""The load and fault suite: `python -m loadtest` (docs/loadtest.md)."""
