"""Identifiers every source spells differently: arXiv ids, repository URLs, code links.

Framework-free and pure, so importers, fetchers and the admin agree on one spelling.
"""

import re
from urllib.parse import urlsplit

# New-style (2007+) ids like 2401.01234v2 and old-style ones like hep-th/9901001v1, bare or
# inside an abs/pdf URL or an "arXiv:" prefix.
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"(?<![\w.-])([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?(?!\d)")


class InvalidIdentifier(ValueError):
    """A value that does not hold the identifier it should."""


def parse_arxiv_id(value: str) -> str:
    """The version-less arXiv id in `value` ("arXiv:2401.01234v3", an abs or pdf URL, ...).

    Versions fold into one record, so v1 and v3 of a paper give the same id.
    """
    text = (value or "").strip()
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.search(text)
        if match:
            return match.group(1)
    raise InvalidIdentifier(f"{value!r} is not an arXiv id")


def arxiv_links(arxiv_id: str) -> tuple[str, str]:
    """The abstract page and PDF URLs of a (version-less) arXiv id."""
    return f"https://arxiv.org/abs/{arxiv_id}", f"https://arxiv.org/pdf/{arxiv_id}"


# Whatever precedes the scheme is part of it for us: browsers drop leading spaces and
# control characters, so " javascript:" and "\x01javascript:" are both script links.
_HTTP_URL = re.compile(r"https?://[^\s/?#\\]+[^\s\\]*", re.IGNORECASE | re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def http_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL with a host, else InvalidIdentifier.

    Imported links end up in href attributes: `javascript:`, `data:` and any other scheme,
    in any letter case, are refused, and so is anything with whitespace or a control
    character in it (browsers strip or ignore those, which turns a harmless-looking value
    into a different URL). The scheme is lower-cased; nothing else is changed.
    """
    text = value if isinstance(value, str) else ""
    if not _HTTP_URL.fullmatch(text) or _CONTROL.search(text):
        raise InvalidIdentifier(f"{str(value)[:80]!r} is not an http(s) URL")
    scheme, rest = text.split(":", 1)
    return scheme.lower() + ":" + rest


_ARXIV_HOSTS = ("arxiv.org", "www.arxiv.org", "export.arxiv.org")


def canonical_arxiv_url(url: str) -> str:
    """An arXiv abstract or PDF link in its one stored spelling, `https://arxiv.org/abs/<id>`
    or `https://arxiv.org/pdf/<id>` without version or `.pdf`; other URLs unchanged.

    Every source spells them differently (`http://`, `v4`, `.pdf`, old-style ids with their
    archive in the path), and one paper must have one link whichever source came last.
    """
    parts = urlsplit(url)
    if (parts.hostname or "").lower() not in _ARXIV_HOSTS:
        return url
    kind = parts.path.lstrip("/").split("/", 1)[0]
    if kind not in ("abs", "pdf"):
        return url
    try:
        arxiv_id = parse_arxiv_id(parts.path)
    except InvalidIdentifier:
        return url
    abstract, pdf = arxiv_links(arxiv_id)
    return abstract if kind == "abs" else pdf


CODE_HOSTS = ("github.com", "gitlab.com")


def normalise_repository_url(url: str) -> tuple[str, str, str]:
    """(url, owner, name) of a code repository URL, in one canonical spelling.

    Lower case, https, no `www.`, no trailing `.git`, slash or deeper path
    (`/tree/main/src` names the same repository). Raises InvalidIdentifier for anything
    that is not `https://<github.com|gitlab.com>/<owner>/<name>`.
    """
    text = (url or "").strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if host not in CODE_HOSTS:
        raise InvalidIdentifier(f"{url!r} is not a GitHub or GitLab repository URL")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        raise InvalidIdentifier(f"{url!r} does not name an owner and a repository")
    owner, name = segments[0], segments[1]
    name = re.sub(r"\.git$", "", name, flags=re.IGNORECASE)
    if not _SEGMENT.fullmatch(owner) or not _SEGMENT.fullmatch(name):
        raise InvalidIdentifier(f"{url!r} does not name an owner and a repository")
    return f"https://{host}/{owner}/{name}".lower(), owner, name


_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

# A code-host URL as authors write it in abstracts: with or without scheme and `www.`,
# often followed by sentence punctuation or LaTeX debris (`...{github.com/a/b}.`).
_CODE_LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:github|gitlab)\.com/[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+",
    re.IGNORECASE,
)


def extract_code_links(text: str) -> list[str]:
    """Normalised repository URLs written in `text`, in order of appearance, each once.

    `github.io` pages and bare user profiles are not repositories and are left out.
    """
    found: list[str] = []
    lowered = (text or "").lower()
    # Most abstracts name no code host: a substring test spares them the regular
    # expression, which tries its optional prefix at every character (a third of the
    # command's time on a Papers with Code dump).
    if "github.com/" not in lowered and "gitlab.com/" not in lowered:
        return found
    for match in _CODE_LINK.finditer(text or ""):
        candidate = match.group(0).rstrip(".,;:")
        try:
            url, _, _ = normalise_repository_url(candidate)
        except InvalidIdentifier:
            continue
        if url not in found:
            found.append(url)
    return found
