from pathlib import Path

from django.core.management.base import BaseCommand

from papers.models import Paper
from papers.services import papers_import

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_papers.jsonl"


class Command(BaseCommand):
    help = "Load the bundled sample papers, only into a database that has no papers yet."

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
        # Trending scores are what the home page lists: compute them now, not at the next
        # hourly beat tick.
        from papers.trending import trending_recompute

        trending_recompute()
