"""The only importer of PySide6 (with app.py)."""
