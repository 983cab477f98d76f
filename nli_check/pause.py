"""A fixed point at which a long run stops itself, so that a crash can be staged there.

``NLI_CHECK_PAUSE_AT=STAGE:N`` stops the process (``SIGSTOP``, as Ctrl-Z would) as soon as N
units of STAGE are committed: ``train`` (the global step of a saved checkpoint), ``embed``
(embedding-store shards of ``scan``) or ``classify`` (pair shards of ``scan``, local engine).
Whoever started the process sees it stop (``os.waitpid(pid, os.WUNTRACED)``) and can kill it at
exactly that point, however fast the machine; ``SIGCONT`` lets it go on. Unset, nothing happens.
"""

from __future__ import annotations

import logging
import os
import signal

from nli_check.errors import NLICheckError

logger = logging.getLogger(__name__)

ENV = "NLI_CHECK_PAUSE_AT"
STAGES = ("train", "embed", "classify")


def pause_point(stage: str, committed: int) -> None:
    """Stop this process if ``$NLI_CHECK_PAUSE_AT`` names ``stage`` and ``committed`` reached its count."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, count = spec.partition(":")
    if name not in STAGES or not count.isdigit():
        raise NLICheckError(f"{ENV}={spec!r} is not STAGE:N with STAGE one of {', '.join(STAGES)}: fix or unset it")
    if name == stage and committed >= int(count):
        logger.info("Stopping after %d %s unit(s) (%s=%s)", committed, stage, ENV, spec)
        os.kill(os.getpid(), signal.SIGSTOP)
