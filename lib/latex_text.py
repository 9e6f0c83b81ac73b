# ruff: noqa: RUF001 (the Unicode look-alikes are the point of this module)
"""LaTeX in titles and abstracts as readable plain text, for e-mail.

E-mail clients run no script and few render MathML, so `$\\mathcal{O}(n^2)$` becomes
"O(n²)": the commands people use in arXiv titles (Greek letters, fonts, fractions,
sub- and superscripts, common relations) map to Unicode; anything unknown loses its
backslash and braces rather than showing raw markup. Text outside maths is left alone.
"""

import re

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ",
    "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
SYMBOLS = {
    "times": "×", "cdot": "·", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "~", "simeq": "≃", "equiv": "≡", "propto": "∝",
    "infty": "∞", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒",
    "mapsto": "↦", "pm": "±", "mp": "∓", "in": "∈", "notin": "∉", "subset": "⊂",
    "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "sum": "Σ",
    "prod": "Π", "int": "∫", "partial": "∂", "nabla": "∇", "ell": "ℓ", "ldots": "…",
    "cdots": "⋯", "dots": "…", "circ": "∘", "star": "⋆", "ast": "∗", "log": "log",
    "exp": "exp", "max": "max", "min": "min", "sqrt": "√", "langle": "⟨", "rangle": "⟩",
    "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "top": "⊤", "dagger": "†",
    "emptyset": "∅", "neg": "¬", "land": "∧", "lor": "∨", "oplus": "⊕", "otimes": "⊗",
}  # fmt: skip
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
SUPERSCRIPT = dict(zip("0123456789+-=()nitT*", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵗᵀ*", strict=True))
SUBSCRIPT = dict(
    zip("0123456789+-=()aeijkmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
# Commands whose argument is shown as is: fonts, text and operator names.
KEEP_ARGUMENT = r"math(?:cal|bf|rm|it|sf|tt|frak|scr)|text(?:bf|it|rm|tt|sf)?|operatorname|boldsymbol|bm|emph|hat|tilde|bar|vec|widehat|widetilde|overline"  # noqa: E501

MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
GROUP = r"\{([^{}]*)\}"


def _script(body: str, table: dict, mark: str) -> str:
    if body and all(char in table for char in body):
        return "".join(table[char] for char in body)
    return f"{mark}({body})" if len(body) > 1 else f"{mark}{body}"


def _maths(source: str) -> str:
    text = source
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b\s*", "", text)
    text = re.sub(r"\\[,;:! ]|\\q?quad\b|~", " ", text)
    # Escaped braces are literal (sets); keep them apart from grouping braces.
    text = text.replace("\\{", "\x00").replace("\\}", "\x01")
    text = re.sub(r"\\([%$&#_])", r"\1", text)
    text = re.sub(r"\\mathbb\s*" + GROUP, lambda m: BLACKBOARD.get(m[1], m[1]), text)
    for _ in range(3):  # innermost groups first; three levels cover real titles
        text = re.sub(r"\\(?:" + KEEP_ARGUMENT + r")\s*" + GROUP, r"\1", text)
        text = re.sub(r"\\[dt]?frac\s*" + GROUP + r"\s*" + GROUP, _fraction, text)
        text = re.sub(r"\\sqrt\s*" + GROUP, lambda m: "√" + _wrap(m[1]), text)
        text = re.sub(r"\^" + GROUP, lambda m: _script(m[1], SUPERSCRIPT, "^"), text)
        text = re.sub(r"_" + GROUP, lambda m: _script(m[1], SUBSCRIPT, "_"), text)
    text = re.sub(r"\^(\w)", lambda m: _script(m[1], SUPERSCRIPT, "^"), text)
    text = re.sub(r"_(\w)", lambda m: _script(m[1], SUBSCRIPT, "_"), text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: GREEK.get(m[1]) or SYMBOLS.get(m[1]) or m[1], text)
    text = text.replace("{", "").replace("}", "").replace("\x00", "{").replace("\x01", "}")
    return " ".join(text.split())


def _wrap(body: str) -> str:
    return body if len(body) == 1 or body.isalnum() else f"({body})"


def _fraction(match: re.Match) -> str:
    return f"{_wrap(match[1])}/{_wrap(match[2])}"


def latex_to_text(text: str) -> str:
    """`text` with each $...$, $$...$$, \\(...\\) and \\[...\\] span as plain Unicode."""
    if not text or ("$" not in text and "\\(" not in text and "\\[" not in text):
        return text or ""
    return MATH.sub(lambda m: _maths(next(g for g in m.groups() if g is not None)), text)
