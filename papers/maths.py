# ruff: noqa: RUF001 -- Greek letters and maths symbols are what this module writes
"""LaTeX maths in titles and abstracts ("$\\mathcal{O}(n)$"), in two forms.

- `maths_html`: escaped text with each `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]` span
  turned into MathML by latex2mathml, on the server. Browsers draw MathML natively, so
  pages and feeds need no script (and the strict CSP stays strict).
- `maths_text`: a readable plain-text form for e-mail text parts, <title>, link previews
  and anywhere markup cannot go: "$\\mathcal{O}(n^2)$" becomes "O(n²)".

A span that latex2mathml cannot parse is shown as its readable text rather than failing
the page; text without any delimiter costs one substring test.
"""

import re
import xml.etree.ElementTree as ET
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# $$display$$ before $inline$; a dollar escaped as \$ is a dollar sign, not a delimiter.
_SPANS = re.compile(
    r"\$\$(?P<d1>.+?)\$\$"
    r"|(?<!\\)\$(?P<i1>[^$]+?)(?<!\\)\$"
    r"|\\\((?P<i2>.+?)\\\)"
    r"|\\\[(?P<d2>.+?)\\\]",
    re.DOTALL,
)
_DELIMITERS = ("$", "\\(", "\\[")

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
    "varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι",
    "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ",
    "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "~", "simeq": "≃", "equiv": "≡",
    "propto": "∝", "infty": "∞", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "Rightarrow": "⇒", "mapsto": "↦", "in": "∈", "notin": "∉", "subset": "⊂",
    "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "partial": "∂",
    "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "ell": "ℓ", "log": "log",
    "exp": "exp", "min": "min", "max": "max", "sqrt": "√", "ldots": "…", "cdots": "⋯",
    "dots": "…", "emptyset": "∅", "circ": "∘", "top": "ᵀ", "%": "%", "$": "$", ",": " ",
    ";": " ", "!": "", "quad": " ", "qquad": "  ", "{": "{", "}": "}", "_": "_", "&": "&",
}  # fmt: skip
_SUPERSCRIPTS = str.maketrans("0123456789+-=()niT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ")
_SUBSCRIPTS = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
# Commands that only change the font or wrap text: their argument is what a reader sees.
_WRAPPERS = re.compile(
    r"\\(?:mathcal|mathbb|mathbf|mathrm|mathit|mathsf|mathtt|boldsymbol|bm|text|textbf|"
    r"textit|textrm|operatorname|emph|mathscr|mathfrak|hat|tilde|bar|vec|overline)\s*"
)


# What the MathML may contain. latex2mathml copies some input through unescaped
# (\text{<script>} becomes a <script> element, \href{javascript:...} an href attribute),
# so its output is parsed and rebuilt from these lists: anything else is dropped.
_ELEMENTS = frozenset(
    [
        "math",
        "mrow",
        "mi",
        "mn",
        "mo",
        "ms",
        "mtext",
        "mspace",
        "msub",
        "msup",
        "msubsup",
        "munder",
        "mover",
        "munderover",
        "mfrac",
        "msqrt",
        "mroot",
        "mstyle",
        "mpadded",
        "mphantom",
        "menclose",
        "mtable",
        "mtr",
        "mtd",
        "mfenced",
        "semantics",
        "annotation",
    ]
)
_ATTRIBUTES = frozenset(
    [
        "display",
        "mathvariant",
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "accent",
        "accentunder",
        "movablelimits",
        "columnalign",
        "rowspacing",
        "columnspacing",
        "minsize",
        "maxsize",
        "largeop",
        "symmetric",
        "linethickness",
        "form",
        "width",
        "height",
        "depth",
        "displaystyle",
        "scriptlevel",
        "notation",
        "open",
        "close",
        "separators",
    ]
)
_SAFE_VALUE = re.compile(r"[A-Za-z0-9 .#%:+-]*")


def _clean(element: ET.Element) -> ET.Element | None:
    tag = element.tag.rsplit("}", 1)[-1]
    if tag not in _ELEMENTS:
        return None
    clean = ET.Element(tag)
    for name, value in element.attrib.items():
        if name in _ATTRIBUTES and _SAFE_VALUE.fullmatch(value):
            clean.set(name, value)
    clean.text = element.text
    for child in element:
        kept = _clean(child)
        if kept is None:
            # Its text stays readable; the element itself goes.
            clean.text = (clean.text or "") + "".join(child.itertext()) + (child.tail or "")
            continue
        kept.tail = child.tail
        clean.append(kept)
    return clean


def _has_maths(text: str) -> bool:
    return any(mark in text for mark in _DELIMITERS)


@lru_cache(maxsize=4096)
def _mathml(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    root = _clean(ET.fromstring(convert(latex, display="block" if display else "inline")))
    if root is None:
        raise ValueError("not MathML")
    root.set("xmlns", "http://www.w3.org/1998/Math/MathML")
    return ET.tostring(root, encoding="unicode")


def maths_html(text: str | None) -> SafeString:
    """`text` escaped for HTML, its LaTeX spans as MathML (with the LaTeX as alttext)."""
    text = str(text or "")
    if not _has_maths(text):
        return mark_safe(escape(text))
    parts, last = [], 0
    for match in _SPANS.finditer(text):
        parts.append(escape(_unescape_dollars(text[last : match.start()])))
        latex = next(group for group in match.groups() if group is not None)
        display = match.group("d1") is not None or match.group("d2") is not None
        try:
            parts.append(_mathml(latex.strip(), display))
        except Exception:
            parts.append(escape(_latex_to_text(latex)))
        last = match.end()
    parts.append(escape(_unescape_dollars(text[last:])))
    return mark_safe("".join(parts))


def maths_text(text: str | None) -> str:
    """`text` with its LaTeX spans in a readable plain form (unescaped: escape on output)."""
    text = str(text or "")
    if not _has_maths(text):
        return text
    converted = _SPANS.sub(
        lambda match: _latex_to_text(next(g for g in match.groups() if g is not None)), text
    )
    return _unescape_dollars(converted)


def _unescape_dollars(text: str) -> str:
    return text.replace("\\$", "$")


def _latex_to_text(latex: str) -> str:
    text = _WRAPPERS.sub("", latex.strip())
    text = re.sub(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}", _fraction, text)
    text = re.sub(r"\\sqrt\s*\{([^{}]*)\}", r"√(\1)", text)
    text = re.sub(r"\\left|\\right", "", text)
    text = re.sub(r"\\([A-Za-z]+|.)", lambda m: _SYMBOLS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\^\{([^{}]*)\}|\^(.)", lambda m: _script(m, _SUPERSCRIPTS, "^"), text)
    text = re.sub(r"_\{([^{}]*)\}|_(.)", lambda m: _script(m, _SUBSCRIPTS, "_"), text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def _fraction(match: re.Match) -> str:
    top, bottom = (part if len(part.strip()) <= 1 else f"({part})" for part in match.groups())
    return f"{top}/{bottom}"


def _script(match: re.Match, table: dict, mark: str) -> str:
    """x^2 → x², x_1 → x₁; a script with no Unicode form stays readable as x^(n+k)."""
    body = match.group(1) if match.group(1) is not None else match.group(2)
    translated = body.translate(table)
    if all(ord(char) in table for char in body):
        return translated
    return f"{mark}({body})" if len(body) > 1 else f"{mark}{body}"
