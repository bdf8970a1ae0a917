"""The one family of expected failures, each carrying a message meant for the user, and the
exit codes the command line gives for them."""

EXIT_OK = 0
EXIT_FAILURE = 1  # an AetuiError: bad data, a bad session, a failed write; also a diverged headless run
EXIT_USAGE = 2  # a ConfigError: bad options or an inconsistent configuration (a bad name, data that is not there)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), after saving what was done
EXIT_TERMINATED = 143  # SIGTERM (128 + 15) to a headless run, after saving what was done


class AetuiError(Exception):
    """An expected failure; str(error) is one line for the user."""

    exit_code = EXIT_FAILURE


class ConfigError(AetuiError):
    """Bad options or an inconsistent configuration (the CLI exits 2)."""

    exit_code = EXIT_USAGE


class DataError(AetuiError):
    """A data set that cannot be found or read."""


class SessionError(AetuiError):
    """A session folder that cannot be created, read or written."""


class UnknownDataError(DataError, ConfigError):
    """A data spec that names no data set, file or folder: a bad --data (the CLI exits 2)."""


class BadNameError(SessionError, ConfigError):
    """A session or snapshot name aetui does not take, e.g. '../x': a bad --session (the CLI exits 2)."""


class SaveError(SessionError):
    """A session or file that could not be written (a full disk, a read-only folder); the last
    save on disk is intact."""
