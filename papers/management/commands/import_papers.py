import sys
import time

from django.core.management.base import BaseCommand, CommandError

from papers.importers import FORMATS
from papers.services import papers_import

SKIPS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Import papers from files: the project's JSONL, Papers with Code dumps (.json/.json.gz), "
        "arXiv API Atom responses, Hugging Face daily papers JSON, or a saved search page."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--format", choices=FORMATS, default="auto", dest="fmt")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read and report; store nothing."
        )
        parser.add_argument("--draft", action="store_true", help="New papers wait as drafts.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *, paths, fmt, dry_run, draft, no_progress, **options):
        bar = None if no_progress else ProgressBar(sys.stderr)
        summary = papers_import(
            paths=paths,
            fmt=fmt,
            draft=draft,
            dry_run=dry_run,
            progress=bar,
            notify=bar.note if bar else None,
        )
        if bar:
            bar.finish()
        for problem in summary.unreadable:
            self.stderr.write(f"unreadable: {problem}")
        for skip in summary.skipped[:SKIPS_SHOWN]:
            self.stderr.write(f"skipped {skip.location}: {skip.reason}")
        if len(summary.skipped) > SKIPS_SHOWN:
            self.stderr.write(f"... and {len(summary.skipped) - SKIPS_SHOWN} more skipped")
        for bad in summary.bad_fields[:SKIPS_SHOWN]:
            self.stderr.write(f"bad field {bad.location}: {bad.reason}")
        if len(summary.bad_fields) > SKIPS_SHOWN:
            self.stderr.write(f"... and {len(summary.bad_fields) - SKIPS_SHOWN} more bad fields")
        prefix = "Dry run (nothing stored): " if dry_run else ""
        self.stdout.write(
            f"{prefix}{summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped"
        )
        for reason, count in summary.skip_reasons().most_common():
            self.stdout.write(f"  skipped {count}: {reason}")
        if summary.scores_refreshed:
            self.stdout.write("Trending scores recomputed: the site and the next digest show them.")
        if summary.bad_fields:
            self.stdout.write(
                f"{len(summary.bad_fields)} bad field(s) dropped from imported papers "
                "(listed above)"
            )
        if summary.read == 0 and summary.unreadable:
            raise CommandError("nothing could be read")
        if summary.read == 0:
            # A feed that parsed and simply had no entries (an arXiv query with no results).
            self.stdout.write("The files held no records: nothing to import.")


class ProgressBar:
    """A one-line bar on a terminal (by bytes of the file read); a line every 10 s elsewhere,
    so logs of a long import still show it is moving."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, source, count, position, size):
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 10):
            return
        self.last = now
        fraction = min(1.0, position / size) if size else 1.0
        filled = int(fraction * self.WIDTH)
        line = (
            f"{source.name}: [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
            f"{fraction:4.0%} {count:,} records"
        )
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()
        self.shown = True

    def note(self, text):
        """A step between files (building indexes, recomputing scores), on its own line."""
        if self.shown and self.tty:
            self.stream.write("\n")
        self.shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self):
        if self.shown and self.tty:
            self.stream.write("\n")
