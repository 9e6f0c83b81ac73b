import json
from pathlib import Path

from django.core.management.base import BaseCommand

from papers.models import Paper, normalise_title
from papers.sample import sample_history_simulate, sample_note_refresh
from papers.services import papers_import

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_papers.jsonl"


class Command(BaseCommand):
    help = (
        "Load the bundled sample papers, only into a database that has no papers yet, with "
        "simulated publication dates, star histories and daily trending (papers.sample)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even if papers exist.")

    def handle(self, *, force, **options):
        if Paper.objects.exists() and not force:
            self.stdout.write("Papers already present; sample not loaded.")
            return
        summary = papers_import(paths=[str(SAMPLE)], fmt="jsonl")
        self.stdout.write(
            f"Sample papers: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {len(summary.skipped)} skipped"
        )
        # Trending needs a past: simulated dates and stars, then the trending of each past
        # day and of today, computed now rather than at the next hourly beat tick.
        with SAMPLE.open(encoding="utf-8") as lines:
            keys = [normalise_title(json.loads(line)["title"]) for line in lines if line.strip()]
        ids = list(Paper.objects.filter(title_key__in=keys).values_list("pk", flat=True))
        counts = sample_history_simulate(
            paper_ids=ids, progress=lambda line: self.stdout.write(f"  {line}")
        )
        sample_note_refresh()
        self.stdout.write(
            f"Simulated: {counts['snapshots']} star counts, {counts['days']} days of trending, "
            f"{counts['picks']} editor's picks (the site's footer says the data is simulated)."
        )
