"""Writes to subscriptions. Views, webhooks, commands and tasks call these.

Three subjects, one module each: the subscription lifecycle (`lifecycle`), accounts and
their subscription (`accounts`), and list imports (`imports`).
"""

from subscriptions.services.accounts import (
    account_delete,
    account_export,
    account_signup_subscribe,
    account_subscribe,
    subscriber_change_email,
    subscriber_export,
    subscriber_link_account,
    subscriber_link_user,
    superuser_create,
)
from subscriptions.services.imports import ImportReport, subscribers_import
from subscriptions.services.lifecycle import (
    ACTIVE,
    SUPPRESSED,
    ConfirmOutcome,
    LimitsUnavailable,
    RateLimited,
    SubscribeOutcome,
    normalise_email,
    subscriber_confirm,
    subscriber_reinstate,
    subscriber_resubscribe,
    subscriber_subscribe,
    subscriber_suppress,
    subscriber_unsubscribe,
    subscriber_unsubscribe_by_mail,
    subscriber_update_preferences,
    subscribers_purge_unconfirmed,
    subscribers_resume_paused,
    timezone_names,
    valid_timezone,
)
from subscriptions.services.outbox import (
    outbound_email_queue_for_subscriber,
    outbound_email_queue_message,
    outbound_email_send,
    outbound_emails_send_due,
)

__all__ = [
    "ACTIVE",
    "SUPPRESSED",
    "ConfirmOutcome",
    "ImportReport",
    "LimitsUnavailable",
    "RateLimited",
    "SubscribeOutcome",
    "account_delete",
    "account_export",
    "account_signup_subscribe",
    "account_subscribe",
    "normalise_email",
    "outbound_email_queue_for_subscriber",
    "outbound_email_queue_message",
    "outbound_email_send",
    "outbound_emails_send_due",
    "subscriber_change_email",
    "subscriber_confirm",
    "subscriber_export",
    "subscriber_link_account",
    "subscriber_link_user",
    "subscriber_reinstate",
    "subscriber_resubscribe",
    "subscriber_subscribe",
    "subscriber_suppress",
    "subscriber_unsubscribe",
    "subscriber_unsubscribe_by_mail",
    "subscriber_update_preferences",
    "subscribers_import",
    "subscribers_purge_unconfirmed",
    "subscribers_resume_paused",
    "superuser_create",
    "timezone_names",
    "valid_timezone",
]
