"""Sessions on disk: the format, the store, the history, atomic writes."""
