"""Commands beyond `check`, `explain` and `schema`, one module each; cli.py registers them."""
