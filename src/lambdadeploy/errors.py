"""Typed errors. Each carries its exit code and what the user needs to fix it.

Exit codes follow SPEC section 2: 1 when a deploy step or smoke test failed (and
nothing unsafe was left behind), 2 for invalid input (CLI usage, config, payload).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXIT_FAILED = 1
EXIT_INVALID_INPUT = 2


class LambdaDeployError(Exception):
    """Base class of every error the CLI turns into a message and an exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The message shown to the user, with the hint on its own line."""
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InvalidInputError(LambdaDeployError):
    """Bad input that is not part of lambda.yaml: CLI options, payload files."""

    exit_code = EXIT_INVALID_INPUT


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in lambda.yaml, located precisely enough to fix it."""

    file: Path
    line: int | None
    field: str
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(InvalidInputError):
    """lambda.yaml is invalid. Holds every issue found, so they are fixed in one go."""

    # Values the template read from the environment: an issue may quote one, so they are masked.
    secret_values: frozenset[str] = frozenset()

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = list(issues)
        count = len(self.issues)
        header = f"{count} error{'s' if count != 1 else ''} in configuration"
        super().__init__(header + ":\n" + "\n".join("  " + i.render() for i in self.issues))

    @classmethod
    def single(
        cls, file: Path, line: int | None, field: str, message: str, hint: str | None = None
    ) -> ConfigError:
        return cls([ConfigIssue(file, line, field, message, hint)])


class PackagingError(LambdaDeployError):
    """A package could not be built (size limits, unusable dependency)."""


class PackagingInputError(InvalidInputError):
    """A package could not be built because of the user's input (handler missing, bad requirements)."""


class AwsError(LambdaDeployError):
    """An AWS call failed in a way retries could not fix."""


class ConcurrentDeployError(LambdaDeployError):
    """Someone else changed the function or alias while we were deploying."""

    def __init__(self, function: str, what: str) -> None:
        super().__init__(
            f"{function}: someone else deployed while this push ran ({what} changed); "
            "nothing was moved by this run",
            hint="re-run the command",
        )


class SmokeTestFailed(LambdaDeployError):
    """The new version failed its smoke invoke; the alias was not moved."""


class Interrupted(LambdaDeployError):
    """The user (Ctrl-C) or the system (SIGTERM) asked us to stop; we stopped between steps."""

    exit_code = 130
