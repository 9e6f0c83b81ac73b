# ruff: noqa: RUF001 (maths as Unicode)
import pytest

from lib.latex_text import latex_to_text


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r"Sorting in $\mathcal{O}(n \log n)$ time", "Sorting in O(n log n) time"),
        (r"$\alpha$-divergence and $x^2 + y_{i}$", "α-divergence and x² + yᵢ"),
        (r"A $\frac{1}{2}$-approximation over $\mathbb{R}^{d}$", "A 1/2-approximation over ℝ^d"),
        (r"A $\sqrt{n}$ bound for $k \leq 10$", "A √n bound for k ≤ 10"),
        (r"Sets $\{0,1\}^n$ and $50\%$", "Sets {0,1}ⁿ and 50%"),
        (r"Display $$\sum_{i=1}^{n} x_i$$ maths", "Display Σᵢ₌₁ⁿ xᵢ maths"),
        (r"Inline \(\beta\) and \[\gamma\]", "Inline β and γ"),
        ("No maths, 5 dollars only", "No maths, 5 dollars only"),
        ("", ""),
    ],
)
def test_it_writes_latex_as_readable_text(source, text):
    assert latex_to_text(source) == text
