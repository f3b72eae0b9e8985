"""`make classifier-tables`: train on the shipped dataset and write the counts the package carries."""

from chalicelib.domain.classifier import TABLES, build_tables

TABLES.write_text(build_tables(), encoding="utf-8")
