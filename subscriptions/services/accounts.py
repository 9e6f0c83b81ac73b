"""Accounts and subscriptions: linking, following the address, export and deletion."""

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from subscriptions.models import ConsentRecord, Subscriber
from subscriptions.services.lifecycle import (
    ACTIVE,
    SUPPRESSED,
    _activate,
    _consent,
    normalise_email,
    valid_timezone,
)


@transaction.atomic
def subscriber_change_email(*, user, email: str) -> bool:
    """Follow an account's new, verified primary address with its subscription.

    The digest goes where the person now reads mail. If another subscription already has
    that address, both stay as they are: merging two people's preferences is not ours to
    guess. Returns whether the address changed.
    """
    subscriber = Subscriber.objects.select_for_update().filter(user=user).first()
    email = normalise_email(email)
    if subscriber is None or subscriber.email == email:
        return False
    if Subscriber.objects.by_email(email).exclude(pk=subscriber.pk).exists():
        return False
    subscriber.email = email
    subscriber.save(update_fields=["email", "updated_at"])
    return True


def _primary_verified_email(user) -> str | None:
    from allauth.account.models import EmailAddress

    address = EmailAddress.objects.filter(user=user, primary=True, verified=True).first()
    return address.email if address else None


@transaction.atomic
def subscriber_link_user(*, user, email: str) -> Subscriber | None:
    """Attach the e-mail-only subscription of a just-verified `email` to `user`, if
    `email` is the account's primary verified address.

    Only the primary address: a secondary one can be someone else's, verified by a click
    they did not understand (or a shared mailbox), and linking would hand the account
    that person's consent records and the power to change or delete their subscription.
    Other subscriptions are linked only from their own mailbox (subscriber_link_account).
    Verifying the address proves the mailbox, so a pending subscription is confirmed too.
    A user already linked to another subscription keeps it.
    """
    primary = _primary_verified_email(user)
    if primary is None or normalise_email(primary) != normalise_email(email):
        return None
    if Subscriber.objects.filter(user=user).exists():
        return None
    subscriber = (
        Subscriber.objects.select_for_update().by_email(email).filter(user__isnull=True).first()
    )
    if subscriber is None:
        return None
    subscriber.user = user
    subscriber.save(update_fields=["user", "updated_at"])
    if subscriber.status == Subscriber.Status.PENDING:
        _activate(subscriber, ConsentRecord.Kind.CONFIRM, "account e-mail verification")
    return subscriber


@transaction.atomic
def subscriber_link_account(*, subscriber: Subscriber, user) -> bool:
    """Link `subscriber` to `user` at the request of someone holding the subscription's
    own preference link (it reaches only that mailbox) and signed in as `user`.

    Refused if either side is linked already. Returns whether it was linked."""
    locked = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if locked.user_id is not None or Subscriber.objects.filter(user=user).exists():
        return False
    locked.user = user
    locked.save(update_fields=["user", "updated_at"])
    subscriber.refresh_from_db()
    return True


@transaction.atomic
def account_subscribe(
    *, user, source: str, ip_address: str | None = None, user_agent: str = "", tz: str = "UTC"
) -> Subscriber:
    """Subscribe a signed-in user with a verified address: no confirmation e-mail needed.

    Raises ValueError if the account has no verified primary address.
    """
    email = _primary_verified_email(user)
    if email is None:
        raise ValueError("the account has no verified e-mail address")
    subscriber = Subscriber.objects.filter(user=user).first()
    if subscriber is None:
        subscriber = Subscriber.objects.by_email(email).first()
    if subscriber is None:
        subscriber = Subscriber.objects.create(
            email=normalise_email(email), user=user, timezone=valid_timezone(tz)
        )
        _consent(
            subscriber,
            ConsentRecord.Kind.OPT_IN,
            source=source,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    elif subscriber.user_id is None:
        subscriber.user = user
        subscriber.save(update_fields=["user", "updated_at"])
    if subscriber.status not in ACTIVE and subscriber.status not in SUPPRESSED:
        kind = (
            ConsentRecord.Kind.RESUBSCRIBE
            if subscriber.status == Subscriber.Status.UNSUBSCRIBED
            else ConsentRecord.Kind.CONFIRM
        )
        _activate(subscriber, kind, source, ip_address, user_agent)
    return subscriber


def account_export(*, user) -> dict:
    """Everything held about `user`, as JSON-ready data (the "download my data" file)."""
    from allauth.account.models import EmailAddress

    data = {
        "exported_at": timezone.now(),
        "account": {
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user).order_by("pk")
            ],
        },
        "subscription": None,
        "library": [
            {
                "title": item.title,
                "origin": item.origin,
                "arxiv_id": item.arxiv_id or (item.paper.arxiv_id if item.paper else ""),
                "doi": item.doi,
                "paper": item.paper.get_absolute_url() if item.paper else None,
                "added_at": item.created_at,
            }
            for item in user.library_items.select_related("paper").order_by("pk")
        ],
    }
    subscriber = Subscriber.objects.filter(user=user).first()
    primary = _primary_verified_email(user)
    if subscriber is None and primary:
        subscriber = Subscriber.objects.by_email(primary).filter(user__isnull=True).first()
    if subscriber is not None:
        data["subscription"] = subscriber_export(subscriber=subscriber)
    return data


def subscriber_export(*, subscriber: Subscriber) -> dict:
    record = model_to_dict(subscriber, exclude=["id", "user", "topics", "confirm_nonce"])
    record.update(
        created_at=subscriber.created_at,
        updated_at=subscriber.updated_at,
        confirmed_at=subscriber.confirmed_at,
        unsubscribed_at=subscriber.unsubscribed_at,
        topics=list(subscriber.topics.values_list("slug", flat=True)),
        consents=list(
            subscriber.consents.order_by("created_at").values(
                "kind", "source", "ip_address", "user_agent", "created_at"
            )
        ),
    )
    # Whatever else other apps keep per subscriber (e.g. digest deliveries), found through
    # the model's reverse relations so this export never misses a new one.
    for relation in Subscriber._meta.related_objects:
        if not relation.one_to_many or relation.related_model is ConsentRecord:
            continue
        rows = relation.related_model._default_manager.filter(**{relation.field.name: subscriber})
        record[relation.get_accessor_name()] = [
            model_to_dict(row, exclude=[relation.field.name]) for row in rows.order_by("pk")
        ]
    return record


@transaction.atomic
def account_delete(*, user) -> None:
    """Delete the account, its subscription and consent records.

    Digest deliveries point at subscribers with SET_NULL, so the counts survive without
    anyone's address.
    """
    Subscriber.objects.filter(user=user).delete()
    primary = _primary_verified_email(user)
    if primary:
        Subscriber.objects.by_email(primary).filter(user__isnull=True).delete()
    user.delete()


@transaction.atomic
def account_signup_subscribe(
    *, user, source: str, ip_address: str | None = None, user_agent: str = "", tz: str = "UTC"
) -> Subscriber | None:
    """Record the digest ticked on the account sign-up form, without an e-mail of its own.

    The subscription stays pending until the account's address is verified: allauth's
    verification e-mail is the only one sent, and verifying it confirms the subscription
    (`subscriber_link_user`). An address that already has a subscription keeps it as it
    is (an unsubscribed reader resubscribes with one click once signed in). Returns the
    pending subscriber, or None when nothing changed.
    """
    email = normalise_email(user.email or "")
    if not email:
        return None
    subscriber, created = Subscriber.objects.get_or_create(
        email=email, defaults={"timezone": valid_timezone(tz)}
    )
    if not created and subscriber.status != Subscriber.Status.PENDING:
        return None
    _consent(
        subscriber,
        ConsentRecord.Kind.OPT_IN,
        source=source,
        ip_address=ip_address,
        user_agent=user_agent,
    )
    return subscriber


@transaction.atomic
def superuser_create(*, email: str, password: str | None, username: str = ""):
    """An editor account from an e-mail address and a password, as `createsuperuser` makes.

    The e-mail address is the login; the username Django's user model still requires is
    made from it, as allauth does at sign-up. The address counts as verified: whoever
    runs the command owns the server. Raises ValueError if an account has the address.
    """
    from allauth.account.adapter import get_adapter
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    email = normalise_email(email)
    if (
        user_model.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    ):
        raise ValueError(f"An account with the address {email} already exists.")
    username = username or get_adapter().generate_unique_username([email.split("@")[0], "editor"])
    user = user_model.objects.create_superuser(username=username, email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user
