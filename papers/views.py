from django.shortcuts import render

from papers.models import Paper


def home(request):
    papers = Paper.objects.latest()[:50]
    return render(request, "papers/home.html", {"papers": papers})
