"""Progress bars on stderr, shown only when a stage runs longer than :data:`DELAY_S`.

Example::

    from nli_check.progress import progress_bar
    with progress_bar(len(texts), "Embedding", "sentence", enabled=True) as bar:
        for batch in batches:
            ...
            bar.update(len(batch))
"""

from __future__ import annotations

import sys

#: Seconds a stage runs before its bar appears: a short run shows none.
DELAY_S = 2.0


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str, *, enabled: bool, unit_scale: bool = False):
    """A tqdm bar on stderr (appearing after :data:`DELAY_S`), or a silent stand-in."""
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=unit_scale, leave=False,
                delay=DELAY_S, file=sys.stderr)
