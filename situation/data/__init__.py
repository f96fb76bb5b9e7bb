"""Packaged data files: Seoul and Incheon district boundaries (see NOTICE.md)."""
