"""Forms for allauth's sign-up and the admin's login: the account and the digest are one."""

from allauth.account.forms import SignupForm
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from subscriptions import services


class AccountSignupForm(SignupForm):
    digest = forms.BooleanField(
        required=False, initial=True, label="Send me the daily digest of trending papers"
    )
    # The browser's zone, filled in by subscriptions/timezone.js; UTC without JavaScript.
    timezone = forms.CharField(
        required=False,
        max_length=64,
        widget=forms.HiddenInput(attrs={"data-browser-timezone": ""}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["digest"] = self.fields.pop("digest")  # after the passwords

    def save(self, request):
        from subscriptions.views import _client

        user = super().save(request)
        if self.cleaned_data.get("digest"):
            services.account_signup_subscribe(
                user=user,
                source="account sign-up",
                tz=self.cleaned_data.get("timezone") or "UTC",
                **_client(request),
            )
        return user


class EmailAdminLoginForm(AdminAuthenticationForm):
    """The admin's login asks for the e-mail address, which is the login everywhere."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.label = "E-mail"
        field.widget = forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
        field.max_length = 254
        self.error_messages = {
            **self.error_messages,
            "invalid_login": "Enter the e-mail address and password of a staff account. "
            "Both may be case-sensitive.",
        }
