"""The one family of expected failures: each carries a message meant for the user."""


class AetuiError(Exception):
    """An expected failure; str(error) is one line for the user."""


class ConfigError(AetuiError):
    """Bad options or an inconsistent configuration (the CLI exits 2)."""


class DataError(AetuiError):
    """A data set that cannot be found or read."""


class SessionError(AetuiError):
    """A session folder that cannot be created, read or written."""
