"""Scaffolding: `paved new` renders the bundled project template, `paved init` writes a starting
contract for a project that exists."""
