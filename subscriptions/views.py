from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST


@require_POST
def subscribe(request):
    # Placeholder until the Subscriptions issue lands the double opt-in flow.
    messages.info(request, "Subscriptions open soon.")
    return redirect("/")
