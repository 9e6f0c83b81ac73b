import datetime
import re

from django import forms
from django.utils import timezone

from lib import addresses
from papers.models import Topic
from subscriptions.models import Subscriber
from subscriptions.services import timezone_names


class AddressField(forms.EmailField):
    """An e-mail address in its one normalised spelling (lib.addresses), refusing what
    the ESP would refuse later, when nobody is there to read the error."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return value
        try:
            return addresses.normalise(value)
        except addresses.InvalidAddress:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        super().validate(value)
        reason = addresses.undeliverable_reason(value) if value else None
        if reason:
            raise forms.ValidationError(reason, code="undeliverable")


class SubscribeForm(forms.Form):
    email = AddressField(
        max_length=254,
        error_messages={
            "required": "Enter your e-mail address.",
            "invalid": "Enter a valid e-mail address, like you@example.org.",
            "max_length": "That is too long for an e-mail address (254 characters at most).",
        },
    )
    # Where the form was (for the consent record) and the browser's time zone guess; both
    # are hints, cleaned to safe values rather than rejected.
    source = forms.CharField(required=False, max_length=200)
    timezone = forms.CharField(required=False, max_length=64)

    def clean_source(self):
        source = self.cleaned_data.get("source") or ""
        return source if source.startswith("/") else ""

    def clean_timezone(self):
        name = self.cleaned_data.get("timezone") or ""
        return name if name in timezone_names() else "UTC"


class KeywordsField(forms.CharField):
    """Comma- or newline-separated words, as a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [word.strip() for word in re.split(r"[,\n]", text) if word.strip()]


HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]
WEEKDAYS = list(
    enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
)


class PreferencesForm(forms.Form):
    PAUSED = "paused"
    SCHEDULE_CHOICES = [
        (Subscriber.Frequency.DAILY, "Every day"),
        (Subscriber.Frequency.WEEKLY, "Once a week"),
        (PAUSED, "Paused until a date"),
    ]

    schedule = forms.ChoiceField(
        choices=SCHEDULE_CHOICES, widget=forms.RadioSelect, label="Send the digest"
    )
    # Shown only for the schedule it belongs to, by subscriptions/preferences.js; without
    # JavaScript both stay visible and the server ignores the one that does not apply.
    weekday = forms.TypedChoiceField(
        choices=WEEKDAYS, coerce=int, label="Day for the weekly e-mail"
    )
    paused_until = forms.DateField(
        required=False,
        label="Last day of the pause",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means all topics.",
    )
    keywords_include = KeywordsField(
        required=False,
        max_length=2000,
        label="Only papers mentioning",
        help_text="Comma-separated; leave empty for no filter.",
    )
    keywords_exclude = KeywordsField(
        required=False,
        max_length=2000,
        label="Never papers mentioning",
        help_text="Comma-separated.",
    )
    only_with_code = forms.BooleanField(required=False, label="Only papers with code")
    papers_per_email = forms.IntegerField(
        min_value=5, max_value=30, label="Papers per e-mail", help_text="5 to 30."
    )
    delivery_hour = forms.TypedChoiceField(choices=HOURS, coerce=int, label="Delivery time")
    # A text field with a list to search (<datalist>): some 600 zones are too many to
    # scroll. preferences.js puts the browser's own zone at the top of the list.
    timezone = forms.ChoiceField(
        label="Time zone",
        help_text="Type a city or region to search, like Paris or America/New_York.",
        error_messages={"invalid_choice": "Choose a time zone from the list, like Europe/Paris."},
        widget=forms.TextInput(
            attrs={"list": "timezone-list", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    email_format = forms.ChoiceField(
        choices=Subscriber.Format.choices, widget=forms.RadioSelect, label="Send it as"
    )
    ranking = forms.ChoiceField(
        choices=Subscriber.Ranking.choices,
        widget=forms.RadioSelect,
        label="Order of my digest",
        required=False,  # a form without it keeps the current choice
        help_text="Learned from what you save and mark More or Less like this.",
    )

    def __init__(self, *args, subscriber: Subscriber, **kwargs):
        initial = {
            "schedule": self.PAUSED if subscriber.paused_until else subscriber.frequency,
            "weekday": subscriber.weekday,
            "paused_until": subscriber.paused_until,
            "topics": list(subscriber.topics.all()) if subscriber.pk else [],
            "keywords_include": subscriber.keywords_include,
            "keywords_exclude": subscriber.keywords_exclude,
            "only_with_code": subscriber.only_with_code,
            "papers_per_email": subscriber.papers_per_email,
            "delivery_hour": subscriber.delivery_hour,
            "timezone": subscriber.timezone,
            "email_format": subscriber.email_format,
            "ranking": subscriber.ranking,
        }
        # Labels read as sentences elsewhere on the site: no trailing colons.
        super().__init__(*args, initial=initial, label_suffix="", **kwargs)
        self.subscriber = subscriber
        self.fields["timezone"].choices = [(name, name) for name in self.timezone_names()]

    @staticmethod
    def timezone_names() -> list[str]:
        return sorted(timezone_names())

    def clean(self):
        data = super().clean()
        if data.get("schedule") == self.PAUSED:
            until = data.get("paused_until")
            if not until:
                self.add_error("paused_until", "Choose the last day of the pause.")
            elif until < timezone.localdate():
                self.add_error("paused_until", "Choose a day from today on.")
            elif until > timezone.localdate() + datetime.timedelta(days=366):
                self.add_error("paused_until", "Pauses last at most a year.")
        else:
            data["paused_until"] = None
        return data

    def service_arguments(self) -> dict:
        """cleaned_data in the shape services.subscriber_update_preferences takes."""
        data = self.cleaned_data
        schedule = data["schedule"]
        return {
            "frequency": self.subscriber.frequency if schedule == self.PAUSED else schedule,
            "weekday": data["weekday"],
            "paused_until": data["paused_until"],
            "topics": data["topics"],
            "keywords_include": data["keywords_include"],
            "keywords_exclude": data["keywords_exclude"],
            "only_with_code": data["only_with_code"],
            "papers_per_email": data["papers_per_email"],
            "delivery_hour": data["delivery_hour"],
            "timezone_name": data["timezone"],
            "email_format": data["email_format"],
            "ranking": data.get("ranking") or None,
        }


class DeleteAccountForm(forms.Form):
    email = forms.CharField(label="Type your e-mail address to confirm", max_length=254)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        try:
            same = addresses.normalise(email) == addresses.normalise(self.user.email or "")
        except addresses.InvalidAddress:
            same = False
        if not same:
            raise forms.ValidationError("That is not the address of this account.")
        return email
