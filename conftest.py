"""Root pytest wiring: the suite's options, markers, fixtures and hypothesis profiles."""

from fixtures import PLUGINS

pytest_plugins = list(PLUGINS)
