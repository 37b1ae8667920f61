"""Converters of other projects' published datasets into hivla's dataset layout."""
