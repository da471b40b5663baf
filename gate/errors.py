"""Errors that stop a run with exit status 2, each with a location to blame."""
from __future__ import annotations


class GateError(Exception):
    """A usage, configuration, policy or input error: reported on one line, exit 2."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return format_location(self.file, self.line, self.message)


class PolicyError(GateError):
    """A policy that cannot be loaded or compiled."""


class ConfigError(GateError):
    """A configuration file or command-line option that is invalid."""


def format_location(file: str | None, line: int | None, message: str) -> str:
    if file is None:
        return message
    if line is None:
        return f"{file}: {message}"
    return f"{file}:{line}: {message}"
