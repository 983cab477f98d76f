"""The one exception type the library raises for problems a user can fix."""

from __future__ import annotations


class NLICheckError(ValueError):
    """A problem with the user's input, model or environment.

    The message is one line that says what is wrong and what to do about it; the CLI
    prints it as ``Error: <message>`` and exits with status 1.
    """
