"""Waiting for an event in a test: a deadline that fails naming what never came, never a fixed sleep."""

from __future__ import annotations

import time

import pytest


def wait_until(predicate, timeout: float, what: str, poll: float = 0.05):
    """predicate()'s first true value within `timeout` seconds, else the test fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)
