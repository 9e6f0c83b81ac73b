"""Thin views over subscriptions.services. Links from e-mails only ever change state on
POST: mail scanners and link previews open every GET."""

import json
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from lib import addresses, ratelimit
from subscriptions import emails, services, tokens
from subscriptions.forms import DeleteAccountForm, PreferencesForm, SubscribeForm
from subscriptions.models import Subscriber

# A confirmation link acts only on these; anyone else was confirmed, or is suppressed.
CONFIRMABLE = {Subscriber.Status.PENDING, Subscriber.Status.UNSUBSCRIBED}


def _client(request) -> dict:
    """The IP address and user agent for consent records and rate limits."""
    return {
        "ip_address": ratelimit.client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:400],
    }


def _path(url: str) -> str:
    """The path of an absolute e-mail link: pages link within whatever host serves them."""
    return urlsplit(url).path


def _link_problem(request, *, expired=False, used=False, email="", status=400):
    form = SubscribeForm(initial={"email": email, "source": request.path})
    context = {
        "expired": expired,
        "used": used,
        "form": form,
        "valid_days": emails.confirm_link_days(),
    }
    return render(request, "subscriptions/link_problem.html", context, status=status)


# --- Sign-up --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def subscribe(request):
    if request.method == "GET":
        form = SubscribeForm(initial={"source": request.GET.get("source", "/subscribe/")})
        return render(request, "subscriptions/subscribe.html", {"form": form})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "subscriptions/subscribe.html", {"form": form}, status=400)
    if _is_own_verified_address(request.user, form.cleaned_data["email"]):
        # The banner pre-fills a signed-in reader's address: their proven mailbox needs
        # no confirmation e-mail, so one click subscribes.
        return account_subscribe(request)
    try:
        # The outcome is deliberately not shown: every address gets the same answer.
        services.subscriber_subscribe(
            email=form.cleaned_data["email"],
            source=form.cleaned_data["source"] or request.path,
            tz=form.cleaned_data["timezone"],
            **_client(request),
        )
    except services.RateLimited:
        return render(request, "subscriptions/rate_limited.html", status=429)
    except services.LimitsUnavailable:
        # Fail closed: without the counters nothing may send mail (docs/site.md).
        response = render(request, "subscriptions/unavailable.html", status=503)
        response["Retry-After"] = "300"
        return response
    return redirect("subscriptions:check_inbox")


def _is_own_verified_address(user, email: str) -> bool:
    from allauth.account.models import EmailAddress

    if not user.is_authenticated:
        return False
    address = EmailAddress.objects.filter(user=user, primary=True, verified=True).first()
    if address is None:
        return False
    try:
        return addresses.normalise(address.email) == addresses.normalise(email)
    except addresses.InvalidAddress:
        return False


@require_GET
def check_inbox(request):
    return render(request, "subscriptions/check_inbox.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, token):
    try:
        subscriber = tokens.subscriber_for_token(token, tokens.CONFIRM)
        data = tokens.read_token(token, tokens.CONFIRM)
    except tokens.BadToken as exc:
        email = ""
        if exc.expired:
            # The signature is good, only old: offer a new link to the same address.
            email = tokens.read_token(token, tokens.CONFIRM, max_age=None).email
        return _link_problem(
            request, expired=exc.expired, email=email, status=410 if exc.expired else 400
        )

    # Used (the confirmation cleared the nonce), superseded or suppressed. A used link
    # answers like any other: it may sit in a forwarded or leaked e-mail, so it must not
    # open the preference centre the way it once did.
    if subscriber.confirm_nonce != data.nonce or subscriber.status not in CONFIRMABLE:
        return _link_problem(request, used=True, email=subscriber.email, status=410)
    if request.method == "GET":
        return render(request, "subscriptions/confirm.html", {"subscriber": subscriber})

    outcome = services.subscriber_confirm(
        subscriber=subscriber, nonce=data.nonce, source="confirmation link", **_client(request)
    )
    if outcome is services.ConfirmOutcome.STALE:
        return _link_problem(request, used=True, email=subscriber.email, status=410)
    messages.success(
        request,
        "You're subscribed. Your first digest comes at your delivery time; adjust anything below.",
    )
    return redirect(_path(tokens.manage_url(subscriber)))


# --- Preference centre ---------------------------------------------------------------------


def _preferences(request, subscriber: Subscriber, template_context: dict):
    if request.method == "POST":
        form = PreferencesForm(request.POST, subscriber=subscriber)
        if form.is_valid():
            services.subscriber_update_preferences(
                subscriber=subscriber, **form.service_arguments()
            )
            messages.success(request, "Preferences saved. They apply from your next e-mail.")
            return redirect(request.path)
        status = 400
    else:
        form = PreferencesForm(subscriber=subscriber)
        status = 200
    context = {
        "form": form,
        "subscriber": subscriber,
        "unsubscribe_url": _path(tokens.unsubscribe_url(subscriber)),
        **template_context,
    }
    return render(request, "subscriptions/preferences.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token):
    try:
        subscriber = tokens.subscriber_for_token(token, tokens.MANAGE)
    except tokens.BadToken:
        return _link_problem(request)
    can_link = (
        request.user.is_authenticated
        and subscriber.user_id is None
        and not Subscriber.objects.filter(user=request.user).exists()
    )
    return _preferences(
        request, subscriber, {"via_link": True, "can_link": can_link, "token": token}
    )


@login_required
@require_POST
def link_account(request, token):
    """ "Link to my account", from the preference centre the subscription's own e-mail
    opened: holding that link is what proves the subscription is the signed-in user's."""
    try:
        subscriber = tokens.subscriber_for_token(token, tokens.MANAGE)
    except tokens.BadToken:
        return _link_problem(request)
    if services.subscriber_link_account(subscriber=subscriber, user=request.user):
        messages.success(request, "This subscription is now part of your account.")
        return redirect("subscriptions:account_preferences")
    messages.error(request, "Nothing changed: this subscription or your account is linked already.")
    return redirect(request.path.removesuffix("link/"))


# --- Leaving -------------------------------------------------------------------------------


@csrf_exempt  # RFC 8058: mailbox providers POST without cookies or a CSRF token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    try:
        subscriber = tokens.subscriber_for_token(token, tokens.UNSUBSCRIBE)
    except tokens.BadToken:
        if one_click:
            return HttpResponse(
                "This unsubscribe link is not valid.\n", status=400, content_type="text/plain"
            )
        return _link_problem(request)

    if request.method == "POST":
        services.subscriber_unsubscribe(
            subscriber=subscriber,
            source="one-click (RFC 8058)" if one_click else "unsubscribe page",
            **_client(request),
        )
        if one_click:
            # A bare answer: no page, no cookie for a machine that will never read it.
            return HttpResponse(f"{subscriber.email} is unsubscribed.\n", content_type="text/plain")
    context = {
        "subscriber": subscriber,
        "token": token,
        "manage_url": _path(tokens.manage_url(subscriber)),
    }
    if subscriber.status in (Subscriber.Status.UNSUBSCRIBED, *services.SUPPRESSED):
        context["suppressed"] = subscriber.status in services.SUPPRESSED
        return render(request, "subscriptions/goodbye.html", context)
    return render(request, "subscriptions/unsubscribe.html", context)


@require_POST
def resubscribe(request, token):
    try:
        subscriber = tokens.subscriber_for_token(token, tokens.UNSUBSCRIBE)
    except tokens.BadToken:
        return _link_problem(request)
    if services.subscriber_resubscribe(
        subscriber=subscriber, source="goodbye page", **_client(request)
    ):
        messages.success(request, "Welcome back: you're subscribed again.")
    else:
        messages.info(request, "Nothing changed: this address is not unsubscribed.")
    return redirect(_path(tokens.manage_url(subscriber)))


# --- Account -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account_preferences(request):
    subscriber = Subscriber.objects.filter(user=request.user).first()
    if subscriber is None:
        return render(request, "subscriptions/account_subscribe.html")
    return _preferences(request, subscriber, {"via_link": False})


@login_required
@require_POST
def account_subscribe(request):
    try:
        services.account_subscribe(
            user=request.user,
            source=reverse("subscriptions:account_preferences"),
            tz=request.POST.get("timezone", ""),
            **_client(request),
        )
    except ValueError:
        messages.error(request, "Verify your e-mail address first; we sent you a link.")
    else:
        messages.success(request, "You're subscribed. Adjust anything below.")
    return redirect("subscriptions:account_preferences")


@login_required
@require_GET
def account_data(request):
    data = services.account_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="paperboy-my-data.json"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.account_delete(user=user)
        messages.success(request, "Your account and your subscription are deleted.")
        return redirect("/")
    status = 400 if request.method == "POST" else 200
    return render(request, "subscriptions/account_delete.html", {"form": form}, status=status)
