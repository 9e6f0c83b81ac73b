#!/usr/bin/env python
"""CPU time of cold page renders, in-process: steadier than requests per second on a busy
machine, where other processes' load moves wall-clock figures by 2 to 5 times.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/paperboy_bench_load \
        .venv/bin/python bench/render_cpu.py

Run it from a code base's root against a database filled by bench/load_test.py; it clears
the cache before every request and prints, per page, the best and median CPU time of 40.
Compare two code bases by running each on its own copy of the data, alternately (the
script may be this one, run from the other checkout: the code imported is the current
directory's). RENDER_CPU_ONLY=home,paper measures only those pages; RENDER_CPU_WARM=1
measures cached pages (best and median of 300 hits).
"""

import os
import statistics
import sys
import time

# The code measured is the working directory's (a checkout's root), wherever this file is.
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site_settings")


def main() -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from papers import models
    from papers.models import Paper, Topic

    client = Client()
    paper = Paper.objects.order_by("pk").first()
    urls = {
        # The reference: HttpResponse("ok") behind the same middleware (bench.site_urls).
        "trivial": "/bench/trivial",
        "home": "/",
        "home week": "/?window=week",
        "home month": "/?window=month",
        "paper": paper.get_absolute_url(),
        "topic": Topic.objects.order_by("pk").first().get_absolute_url(),
        "latest": "/latest/",
        "feed": "/feed/",
        "atom feed": "/feed/atom/",
        # Never cached: the same query each time.
        "search": f"/search/?q={paper.title.split()[0]}",
    }
    # Pages issue 12 added, where this code base has them.
    if hasattr(models, "TrendSnapshot"):
        day = models.TrendSnapshot.objects.order_by("-day").values_list("day", flat=True)[0]
        try:
            urls["daily"] = reverse("papers:day", kwargs={"day": day.isoformat()})
            slug = models.author_slug(paper.authors[0])
            urls["author"] = reverse("papers:author", kwargs={"slug": slug})
        except NoReverseMatch:
            pass
    only = [name for name in os.environ.get("RENDER_CPU_ONLY", "").split(",") if name]
    if only:
        urls = {name: url for name, url in urls.items() if name in only}
    # RENDER_CPU_WARM=1: cached pages instead (the steady state), 300 hits each.
    warm = os.environ.get("RENDER_CPU_WARM") == "1"
    for name, url in urls.items():
        for _ in range(3):  # warm imports, templates and connections
            cache.clear()
            client.get(url, HTTP_HOST="127.0.0.1")
        cpu, wall = [], []
        for _ in range(300 if warm else 40):
            if not warm:
                cache.clear()
            started_cpu, started = time.process_time(), time.perf_counter()
            response = client.get(url, HTTP_HOST="127.0.0.1")
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{name:<10} cpu best {min(cpu):6.2f} median {statistics.median(cpu):6.2f} ms"
            f"   wall best {min(wall):6.1f} ms"
        )


if __name__ == "__main__":
    main()
