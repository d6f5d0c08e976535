"""The built-in check families, one module per concern of the contract.

Each module exposes `family`, a `pavedroad.registry.Family`; third-party packages expose theirs
through the `pavedroad.checks` entry-point group in the same way.
"""
