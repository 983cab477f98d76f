"""The ``nli-check`` command line: a thin layer over the library.

Each command lives in its own module and is imported only when it runs, so
``nli-check --help`` never waits for torch.

Exit codes: 0 done, 1 error, 2 usage error, 3 contradictions found with
``--fail-on-contradiction``.
"""

from __future__ import annotations

import importlib

import click

#: command name -> (module, function name, one-line help shown by ``nli-check --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("nli_check.cli.check", "check", "Find claims that the evidence contradicts or supports."),
    "index": ("nli_check.cli.index", "index", "Index an archive's sentences for check --archive."),
    "scan": ("nli_check.cli.scan", "scan", "Mine contradictions across a news archive."),
    "train": ("nli_check.cli.train", "train", "Fine-tune an NLI model on labelled pairs."),
    "train-embedder": ("nli_check.cli.train_embedder", "train_embedder",
                       "Fine-tune the embedder that pairs claims with evidence."),
    "eval": ("nli_check.cli.evaluate", "eval_command", "Score an NLI model on labelled sets."),
    "calibrate": ("nli_check.cli.calibrate", "calibrate", "Fit temperature scaling on a dev set."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attr, short_help = COMMANDS[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        command.short_help = short_help
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help from the table above: listing commands imports none of them.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


EPILOG = """Exit codes: 0 done, 1 error, 2 usage error, 3 contradictions were reported
and --fail-on-contradiction was given."""


@click.group(cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nli-check")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """nli-check: find where texts contradict each other.

    \b
    Example:
        nli-check check draft.txt --evidence sources/
    """
    from nli_check.cli._common import setup_logging

    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    setup_logging(verbose=verbose, quiet=quiet)


def main() -> None:
    cli(prog_name="nli-check")
