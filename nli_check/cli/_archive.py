"""``check``'s archive options (``--archive`` and its filters), bundled once."""

from __future__ import annotations

import click

ARCHIVE_OPTIONS = ("archive", "since", "until", "date_window", "draft_date", "source", "exclude_source")


def archive_options(function):
    """Add ``--archive`` and its filters to a command."""
    options = [
        click.option("--archive", metavar="DIR", default=None,
                     help="Also pair each claim with the nearest sentences of this index "
                          "(built by nli-check index); combines with -e."),
        click.option("--since", metavar="DATE", default=None,
                     help="Archive evidence dated on or after DATE (YYYY-MM-DD)."),
        click.option("--until", metavar="DATE", default=None,
                     help="Archive evidence dated on or before DATE (YYYY-MM-DD)."),
        click.option("--date-window", type=click.FloatRange(min=0), default=None, metavar="DAYS",
                     help="Archive evidence dated at most DAYS from the draft's date (--date)."),
        click.option("--date", "draft_date", metavar="DATE", default=None,
                     help="The draft's date, for --date-window. [default: today]"),
        click.option("--source", multiple=True, metavar="NAME",
                     help="Archive evidence from this source only (repeatable)."),
        click.option("--exclude-source", multiple=True, metavar="NAME",
                     help="No archive evidence from this source (repeatable)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def archive_arguments(values: dict) -> dict:
    """``archive`` and ``archive_filter`` for :func:`nli_check.check` from the options' values."""
    from nli_check.archive import ArchiveFilter

    archive = values.get("archive")
    given = [name for name in ARCHIVE_OPTIONS[1:] if values.get(name)]
    if archive is None:
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} needs --archive")
        return {}
    archive_filter = ArchiveFilter(
        since=values.get("since"),
        until=values.get("until"),
        date_window=values.get("date_window"),
        around=values.get("draft_date"),
        sources=tuple(values.get("source") or ()),
        exclude_sources=tuple(values.get("exclude_source") or ()),
    )
    return {"archive": archive, "archive_filter": archive_filter}
