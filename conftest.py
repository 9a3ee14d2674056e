"""Root pytest wiring: the suite's options, markers, fixtures and hypothesis profiles."""

pytest_plugins = [
    "fixtures.options",
    "fixtures.models",
    "fixtures.tokenizers",
    "fixtures.hypothesis_profiles",
]
