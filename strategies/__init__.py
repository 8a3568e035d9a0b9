"""The shipped strategies: one module per hypothesis, each defining `STRATEGY`.

The registry itself lives in the framework (`research.registry`, which finds this package by name). The names
below are kept for compatibility (notebooks, users' code: `strategies.registry()`, `strategies.get(name)`,
`strategies.register(s)`); new code uses `research.registry`. The framework never imports this package.
"""

from research.registry import get, register, registry, unregister

__all__ = ["get", "register", "registry", "unregister"]
