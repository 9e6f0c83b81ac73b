"""allauth events, handed straight to services."""

from allauth.account.signals import email_changed, email_confirmed
from anymail.signals import inbound
from django.dispatch import receiver

from subscriptions import services


@receiver(email_confirmed, dispatch_uid="subscriptions-link-user")
def link_subscription(sender, request, email_address, **kwargs):
    # Only a verified address may claim an e-mail-only subscription.
    services.subscriber_link_user(user=email_address.user, email=email_address.email)


@receiver(email_changed, dispatch_uid="subscriptions-follow-email")
def follow_primary_email(sender, request, user, to_email_address, **kwargs):
    if to_email_address.verified:
        services.subscriber_change_email(user=user, email=to_email_address.email)


@receiver(inbound, dispatch_uid="subscriptions-mailto-unsubscribe")
def unsubscribe_by_mail(sender, event, esp_name, **kwargs):
    message = event.message
    recipients = [address.addr_spec for address in message.to + message.cc]
    if message.envelope_recipient:
        recipients.append(message.envelope_recipient)
    services.subscriber_unsubscribe_by_mail(recipients=recipients, subject=message.subject or "")
