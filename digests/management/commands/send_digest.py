"""Send the edition of one date now, to everyone due that day, whatever their hour."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from digests import services
from digests.models import Kind
from digests.selection import local_today


class Command(BaseCommand):
    help = "Send (or with --dry-run, only count) the digest of a date; --to sends one test copy."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--kind", choices=Kind.values, default=Kind.DAILY)
        parser.add_argument("--dry-run", action="store_true", help="Send and write nothing.")
        parser.add_argument("--to", metavar="EMAIL", help="Send one test copy to EMAIL only.")

    def handle(self, *args, date=None, kind, dry_run, to, **options):
        try:
            day = dt.date.fromisoformat(date) if date else local_today()
        except ValueError:
            raise CommandError(f"--date {date!r} is not a date like 2026-11-27.") from None
        if to:
            try:
                validate_email(to)
            except ValidationError:
                raise CommandError(f"--to {to!r} is not an e-mail address.") from None
            if dry_run:
                self.stdout.write(f"Would send a test copy of the {kind} digest of {day} to {to}.")
                return
            message_id = services.digest_send_test(day=day, kind=kind, to=to)
            self.stdout.write(f"Test copy sent to {to} (ESP id {message_id or 'n/a'}).")
            return
        if dry_run:
            summary = services.digest_dry_run(day=day, kind=kind)
            self._report(summary, verb="would send")
            return
        try:
            summary = services.digest_send_date(day=day, kind=kind, progress=self._progress)
        except services.EditionEmpty as exc:
            raise CommandError(str(exc)) from None
        self._report(summary, verb="sent")

    def _progress(self, index, total, result):
        self.stderr.write(
            f"\rchunk {index}/{total}: {result.sent} sent, {sum(result.skipped.values())} "
            f"skipped, {result.failed} failed",
            ending="\n" if index == total else "",
        )
        self.stderr.flush()

    def _report(self, summary, *, verb):
        edition = summary.editions[0]
        result = summary.result
        nothing_new = not (result.sent or result.failed or sum(result.skipped.values()))
        if summary.already_sent and nothing_new:
            readers = "reader" if summary.already_sent == 1 else "readers"
            self.stdout.write(
                f"{edition}: already sent to {summary.already_sent} {readers}; "
                "nothing left to send."
            )
            return
        self.stdout.write(f"{edition}: {summary.due} due")
        if summary.already_sent:
            self.stdout.write(f"  already sent by an earlier run: {summary.already_sent}")
        self.stdout.write(f"  {verb}: {result.sent}")
        skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(result.skipped.items()))
        self.stdout.write(
            f"  skipped: {sum(result.skipped.values())}" + (f" ({skipped})" if skipped else "")
        )
        self.stdout.write(f"  failed: {result.failed}")
