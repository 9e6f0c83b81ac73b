import csv
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from subscriptions import services

# Header names of the address column in common exports (Mailchimp, listmonk, Buttondown...).
EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "email_address", "mail"}
# Rows another tool marks as having left: importing them would resubscribe people.
LEFT_STATUSES = {"unsubscribed", "blocklisted", "blacklisted", "cleaned", "bounced", "disabled"}
PROGRESS_EVERY = 1000


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV export (an 'email' or 'Email Address' column, or a "
        "single column of addresses). Skips duplicates and bad rows and reports them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--confirmed",
            action="store_true",
            help="The list was double opt-in already: import as confirmed. Without it, each "
            "address is pending and gets a confirmation e-mail.",
        )
        parser.add_argument(
            "--source",
            default="",
            help="Where the consent came from, kept as the consent record (default: the "
            "file name).",
        )

    def handle(self, *args, file: Path, confirmed: bool, source: str, **options):
        try:
            handle = file.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        source = f"import: {source or file.name}"
        report = _PrintedReport(self.stdout)
        with handle:
            try:
                services.subscribers_import(
                    rows=self._progress(_rows(handle, report)),
                    confirmed=confirmed,
                    source=source,
                    report=report,
                )
            except (csv.Error, UnicodeDecodeError) as exc:
                raise CommandError(f"{file} is not a readable UTF-8 CSV file: {exc}") from None
        self._report(report)

    def _progress(self, rows):
        for count, row in enumerate(rows, start=1):
            if count % PROGRESS_EVERY == 0:
                self.stderr.write(f"… {count} rows read")
            yield row

    def _report(self, report):
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.imported} with {report.consents} consent record(s); "
                f"skipped {report.duplicate_count} duplicate(s) "
                f"and {report.bad_row_count} bad row(s)."
            )
        )


class _PrintedReport(services.ImportReport):
    """Prints each skipped row as it is found: a million-row file with many skips must
    not hold them all in memory until the end."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def bad_row(self, line, reason):
        self.bad_row_count += 1
        self.out.write(f"line {line}: skipped, {reason}")

    def duplicate(self, line, email):
        self.duplicate_count += 1
        self.out.write(f"line {line}: skipped, {email} is already on the list")


def _rows(handle, report):
    """(line number, address) pairs from a CSV file with or without a header row; rows
    whose status column says the person left go to the report's bad rows instead."""
    reader = csv.reader(handle)
    first = next(reader, None)
    if first is None:
        raise CommandError("the file is empty")
    names = [name.strip().lower() for name in first]
    column = next((i for i, name in enumerate(names) if name in EMAIL_HEADERS), None)
    if column is None:
        if len(first) == 1 and "@" in first[0]:
            column = 0  # no header: a plain list of addresses
            yield reader.line_num, first[0]
        else:
            raise CommandError(
                f"no e-mail column found; the header row is {first!r}. Name the column "
                "'email' or 'Email Address'."
            )
    status = names.index("status") if "status" in names else None
    for row in reader:
        if not "".join(row).strip():
            continue  # blank lines are not rows
        if (
            status is not None
            and status < len(row)
            and row[status].strip().lower() in (LEFT_STATUSES)
        ):
            report.bad_row(reader.line_num, f"status is {row[status].strip()!r}")
            continue
        yield reader.line_num, row[column] if column < len(row) else ""
