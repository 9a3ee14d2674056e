"""icl_core: the library behind icl-claims (no pytest imports here)."""

__version__ = "0.1.0"
