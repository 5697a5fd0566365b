"""critmat — critical raw material supply security platform."""

__version__ = "0.3.1"
