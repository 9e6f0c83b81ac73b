"""`createsuperuser` with an e-mail address and a password only: the address is the login.

Replaces django.contrib.auth's command (the subscriptions app comes first in
INSTALLED_APPS). Non-interactive use reads DJANGO_SUPERUSER_EMAIL and
DJANGO_SUPERUSER_PASSWORD, as Django's own command does.
"""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from subscriptions import services


class Command(BaseCommand):
    help = "Create an editor account (staff and superuser) from an e-mail address and a password."

    def add_arguments(self, parser):
        parser.add_argument("--email", help="The e-mail address, which is the login.")
        parser.add_argument(
            "--username", default="", help="Optional: made from the e-mail address if left out."
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Ask nothing: read DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD.",
        )
        parser.add_argument("--database", default="default", help="Ignored; kept for scripts.")

    def handle(self, *, email, username, interactive, **options):
        email = email or os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or None
        if interactive:
            email = email or self._ask_email()
            password = self._ask_password(email)
        elif not email:
            raise CommandError("Give --email or set DJANGO_SUPERUSER_EMAIL.")
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"{email!r} is not a valid e-mail address.") from exc
        try:
            user = services.superuser_create(email=email, password=password, username=username)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Superuser {user.email} created; sign in with that address.")

    def _ask_email(self) -> str:
        while True:
            email = input("E-mail address: ").strip()
            try:
                validate_email(email)
            except ValidationError:
                self.stderr.write("Enter a valid e-mail address, like you@example.org.")
            else:
                return email

    def _ask_password(self, email: str) -> str:
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The two passwords differ; try again.")
                continue
            try:
                validate_password(password)
            except ValidationError as exc:
                self.stderr.write(" ".join(exc.messages))
                continue
            return password
