"""Anymail's tracking webhook arrives here as a signal; services do the work."""

import logging

from anymail.signals import tracking
from django.dispatch import receiver

from digests.services import delivery_record_event

logger = logging.getLogger(__name__)


@receiver(tracking, dispatch_uid="digests.tracking")
def on_tracking_event(sender, event, esp_name, **kwargs):
    outcome = delivery_record_event(event=event)
    logger.info("%s %s event for %s: %s", esp_name, event.event_type, event.message_id, outcome)
