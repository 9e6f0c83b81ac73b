# Placeholders until the Subscriptions issue lands the double opt-in flow; the URL names
# and paths above are the contract (e-mails already link to them).
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


@require_POST
def subscribe(request):
    messages.info(request, "Subscriptions open soon.")
    return redirect("/")


def confirm(request, token):
    return HttpResponse(status=501)


def manage(request, token):
    return HttpResponse(status=501)


def unsubscribe(request, token):
    return HttpResponse(status=501)
