"""Backups to Blob Storage with verified restores and retention (docs/backups.md)."""
