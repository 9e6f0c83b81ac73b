import pytest

from lib import addresses

SOFT_HYPHEN, ZERO_WIDTH_SPACE, FULL_WIDTH_E = "\u00ad", "\u200b", "\uff45"


@pytest.mark.parametrize(
    "spelling",
    [
        "frank@example.org",
        " Frank@Example.ORG ",
        f"frank@exam{SOFT_HYPHEN}ple.org",
        f"frank@{FULL_WIDTH_E}xample.org",
        f"fr{ZERO_WIDTH_SPACE}ank@example.org",
        f"frank@example.org{ZERO_WIDTH_SPACE}",
        "frank\uff20example.org",  # full-width at sign
        "frank@example\u3002org",  # ideographic full stop, a dot under UTS #46
        "fr\u2060ank@ex\ufeffample.org",  # word joiner, zero-width no-break space
        "frank@EXAMPLE.org\u200d",  # zero-width joiner
    ],
)
def test_every_spelling_is_one_address(spelling):
    assert addresses.normalise(spelling) == "frank@example.org"


def test_an_international_domain_becomes_its_ascii_form():
    assert addresses.normalise("Jörg@Bücher.de") == "jörg@xn--bcher-kva.de"


def test_a_domain_that_is_no_name_is_refused():
    with pytest.raises(addresses.InvalidAddress):
        addresses.normalise("frank@exa mple\u0301.org\u2028")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("=?utf-8?q?frank?=@example.org", "encoded word"),
        ("a=?iso-8859-1?b?Zg==?=b@example.org", "encoded word"),
        ("frank@[192.0.2.1]", "IP address"),
        ("frank@[ipv6:2001:db8::1]", "IP address"),
        ("frank@localhost", "localhost"),
        ("frank@mail.localhost", "localhost"),
    ],
)
def test_what_the_esp_would_refuse_is_named(address, reason):
    assert reason in addresses.undeliverable_reason(address)


def test_an_ordinary_address_is_deliverable():
    assert addresses.undeliverable_reason("frank+digest@example.org") is None
