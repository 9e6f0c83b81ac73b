from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from subscriptions.management.commands import import_subscribers
from subscriptions.models import ConsentRecord, Subscriber
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def _import(*args):
    out, err = StringIO(), StringIO()
    call_command("import_subscribers", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_a_mailchimp_export_and_reports_what_it_skipped():
    SubscriberFactory(email="known@example.org", status=Subscriber.Status.UNSUBSCRIBED)

    out, _ = _import(DATA / "mailchimp-members.csv", "--confirmed", "--source", "mailchimp")

    emails = set(Subscriber.objects.values_list("email", flat=True))
    assert emails == {
        "ada@example.org",
        "alan@example.org",
        "grace@example.org",
        "known@example.org",
    }
    assert "line 4: skipped, not an e-mail address: 'not an address'" in out
    assert "line 5: skipped, ada@example.org is already on the list" in out
    assert "line 6: skipped, not an e-mail address: ''" in out
    assert "line 7: skipped, known@example.org is already on the list" in out
    assert "Imported 3 with 3 consent record(s); skipped 2 duplicate(s) and 2 bad row(s)." in out
    # An import never resubscribes someone who left.
    assert Subscriber.objects.get(email="known@example.org").status == "unsubscribed"


def test_the_source_becomes_the_consent_record():
    _import(DATA / "mailchimp-members.csv", "--confirmed", "--source", "mailchimp 2024")

    ada = Subscriber.objects.get(email="ada@example.org")
    assert ada.status == Subscriber.Status.CONFIRMED
    assert ada.confirmed_at is not None
    consent = ada.consents.get()
    assert (consent.kind, consent.source) == (ConsentRecord.Kind.IMPORT, "import: mailchimp 2024")
    assert ConsentRecord.objects.count() == 4  # one per imported address


def test_without_confirmed_each_address_gets_a_double_opt_in(outbox, run_on_commit):
    with run_on_commit():
        out, _ = _import(DATA / "listmonk-subscribers.csv")

    assert set(Subscriber.objects.values_list("email", "status")) == {
        ("reader1@example.org", "pending"),
        ("reader2@example.org", "pending"),
    }
    assert sorted(m.to[0] for m in outbox) == ["reader1@example.org", "reader2@example.org"]
    assert all("/confirm/" in m.body for m in outbox)
    assert "line 4: skipped, status is 'blocklisted'" in out
    assert ConsentRecord.objects.filter(source="import: listmonk-subscribers.csv").count() == 2


def test_a_headerless_list_of_addresses(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("one@example.org\ntwo@example.org\n\nthree@example\n")

    out, _ = _import(path, "--confirmed")

    assert Subscriber.objects.count() == 2
    assert "line 4: skipped, not an e-mail address: 'three@example'" in out


def test_it_shows_progress_on_long_files(tmp_path, monkeypatch):
    monkeypatch.setattr(import_subscribers, "PROGRESS_EVERY", 10)
    path = tmp_path / "long.csv"
    path.write_text("email\n" + "".join(f"r{n}@example.org\n" for n in range(25)))

    out, err = _import(path, "--confirmed")

    assert err.splitlines() == ["… 10 rows read", "… 20 rows read"]
    assert "Imported 25 with 25 consent record(s);" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("name,city\nAda,London\n", "no e-mail column found"),
        (b"\xff\xfe\x00e\x00m", "not a readable UTF-8 CSV file"),
    ],
)
def test_a_bad_file_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    with pytest.raises(CommandError, match=message):
        _import(path)
    assert not Subscriber.objects.exists()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        _import(tmp_path / "nope.csv")


def test_duplicates_across_chunks_are_found_and_every_row_gets_one_consent(tmp_path, monkeypatch):
    from subscriptions.services import imports

    monkeypatch.setattr(imports, "CHUNK_SIZE", 3)
    SubscriberFactory(email="known@example.org", status=Subscriber.Status.COMPLAINED)
    lines = ["r0@example.org", "r1@example.org", "R0@Example.org", "r2@example.org"]
    lines += ["known@exam\u00adple.org", "r1@example.org", "bad", "r3@example.org"]
    path = tmp_path / "list.csv"
    path.write_text("email\n" + "\n".join(lines) + "\n")

    out, _ = _import(path, "--confirmed")

    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "known@example.org",
        "r0@example.org",
        "r1@example.org",
        "r2@example.org",
        "r3@example.org",
    ]
    assert ConsentRecord.objects.count() == 4
    for line, email in [(4, "r0@example.org"), (6, "known@example.org"), (7, "r1@example.org")]:
        assert f"line {line}: skipped, {email} is already on the list" in out
    assert "line 8: skipped, not an e-mail address: 'bad'" in out
    assert "Imported 4 with 4 consent record(s); skipped 3 duplicate(s) and 1 bad row(s)." in out


def test_an_address_taken_during_the_import_is_a_duplicate_not_an_error(monkeypatch):
    from subscriptions import services
    from subscriptions.services import imports

    real_clean = imports._clean

    def clean_then_someone_signs_up(raw):
        result = real_clean(raw)
        if raw == "late@example.org":
            Subscriber.objects.create(email="late@example.org")  # after our read
        return result

    monkeypatch.setattr(imports, "_clean", clean_then_someone_signs_up)

    report = services.subscribers_import(
        rows=[(2, "late@example.org"), (3, "ada@example.org")], confirmed=True, source="t"
    )

    assert report.imported == 1
    assert report.duplicates == [(2, "late@example.org")]
    assert Subscriber.objects.get(email="late@example.org").consents.count() == 0


def test_the_command_prints_skipped_rows_as_it_goes_instead_of_keeping_them(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email\nbad\nada@example.org\nada@example.org\n")
    out = StringIO()
    report = import_subscribers._PrintedReport(out)

    from subscriptions import services

    services.subscribers_import(
        rows=[(2, "bad"), (3, "ada@example.org"), (4, "ada@example.org")],
        confirmed=True,
        source="t",
        report=report,
    )

    assert report.bad_rows == [] and report.duplicates == []  # nothing held in memory
    assert (report.bad_row_count, report.duplicate_count) == (1, 1)
    assert "line 2: skipped" in out.getvalue() and "line 4: skipped" in out.getvalue()
