"""Experiments: each a function of (model, config, seed) returning tidy records, computed once
per (model, config, code version) through the results store."""
