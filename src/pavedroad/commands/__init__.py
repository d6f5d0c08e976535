"""The `paved` subcommands, one module each; cli.py maps their names to them (`COMMANDS`)."""
