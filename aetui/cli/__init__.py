"""The command line: one module per command, the shared option types, the entry point."""
