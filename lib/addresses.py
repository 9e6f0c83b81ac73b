"""One spelling per e-mail address, and the addresses our ESP would refuse.

Every comparison, rate limit and suppression works on `normalise()`'s result, so that
`frank@exam<soft hyphen>ple.org`, `frank@<full-width e>xample.org` or an address with a
zero-width space are all the `frank@example.org` a complaint suppressed, and not new
people. The steps, in order:

1. NFKC: compatibility forms (full-width letters, ligatures, the full-width at sign) become
   the characters they stand for;
2. drop Unicode's default-ignorable code points (soft hyphen, zero-width space and
   joiners, bidi controls, variation selectors, ...): they render as nothing, so a person
   cannot tell two addresses apart by them;
3. the domain becomes its IDNA (UTS #46) ASCII form, lower-cased; the local part is
   lower-cased too, as the site always has (the unique index is on lower(email)).
"""

import re
import unicodedata

import idna

# Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt (stable since 6.x;
# Python's unicodedata does not expose the property).
_DEFAULT_IGNORABLE = re.compile(
    "["
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
    "]"
)
# RFC 2047 encoded words: valid characters in a local part, but Anymail and ESPs treat
# "=?charset?q?...?=" as a header encoding and either reject or decode it into another
# address.
_ENCODED_WORD = re.compile(r"=\?.*\?=")


class InvalidAddress(ValueError):
    """The address cannot be normalised (e.g. its domain is not a valid IDNA name)."""


def normalise(address: str) -> str:
    """The one spelling of `address` that every lookup and limit uses.

    Raises InvalidAddress when the domain cannot be IDNA-encoded; an address without an
    "@" is returned cleaned but otherwise as it is, for the validator to refuse.
    """
    if address.isascii():
        # The common case, and the whole of a large import: nothing to map or drop.
        return address.strip().lower()
    text = _DEFAULT_IGNORABLE.sub("", unicodedata.normalize("NFKC", address)).strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise InvalidAddress(f"the domain {domain!r} is not a valid name: {exc}") from None
    return f"{local}@{domain}".lower()


def undeliverable_reason(address: str) -> str | None:
    """Why our ESP would refuse a (normalised, syntactically valid) address, or None.

    Django's EmailValidator accepts these, but Anymail or the ESP reject them at send
    time, where the person who typed them is no longer there to hear it.
    """
    local, _, domain = address.rpartition("@")
    if "=?" in local and _ENCODED_WORD.search(local):
        return "An address cannot contain an encoded word such as =?utf-8?q?…?=."
    if domain.startswith("["):
        return "Use an address at a domain name, not at an IP address."
    if domain == "localhost" or domain.endswith(".localhost"):
        return "Use an address at a public domain, not at localhost."
    return None
