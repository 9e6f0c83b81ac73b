"""allauth events, handed straight to services."""

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from subscriptions import services


@receiver(email_confirmed, dispatch_uid="subscriptions-link-user")
def link_subscription(sender, request, email_address, **kwargs):
    # Only a verified address may claim an e-mail-only subscription.
    services.subscriber_link_user(user=email_address.user, email=email_address.email)
