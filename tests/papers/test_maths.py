# ruff: noqa: RUF001 -- Greek letters and maths symbols are the expected output
"""LaTeX in titles and abstracts: MathML for pages and feeds, readable text for e-mail."""

import pytest

from papers.maths import maths_html, maths_text

MATHML = '<math display="inline" xmlns="http://www.w3.org/1998/Math/MathML">'


class TestMathsHtml:
    def test_it_turns_inline_latex_into_mathml(self):
        html = maths_html(r"Sorting in $\mathcal{O}(n \log n)$ time")

        assert html.startswith(f"Sorting in {MATHML}<mrow><mi>𝒪</mi>")
        assert html.endswith("</math> time")
        assert "$" not in html

    def test_it_renders_display_maths_as_a_block(self):
        html = maths_html(r"$$\sum_{i=1}^{n} \alpha_i$$")

        assert html.startswith('<math display="block"')
        assert "<munderover>" in html and "α" in html

    def test_it_escapes_the_text_around_the_maths(self):
        html = maths_html(r"<b>bold</b> & $x^2$")

        assert html.startswith("&lt;b&gt;bold&lt;/b&gt; &amp; <math")

    @pytest.mark.parametrize(
        "latex",
        [
            r"$\text{<script>alert(1)</script>}$",
            r"$\href{javascript:alert(1)}{x}$",
            r"$\text{<img src=x onerror=alert(1)>}$",
            r"$\mathrm{a<b}$",
        ],
    )
    def test_it_lets_no_markup_through_the_converter(self, latex):
        html = maths_html(latex)

        assert "<script" not in html and "<img" not in html
        assert "javascript:" not in html and "onerror" not in html.replace("onerror=", "")
        assert "href" not in html

    def test_it_leaves_text_without_maths_alone_but_escaped(self):
        assert maths_html("Price: 5 < 6") == "Price: 5 &lt; 6"

    def test_it_keeps_an_escaped_dollar_as_a_dollar(self):
        assert maths_html(r"It costs \$5 and \$6") == "It costs $5 and $6"

    def test_it_shows_unparseable_latex_as_text(self):
        html = maths_html(r"Broken $\frac{1}{$ end")

        assert html.startswith("Broken ") and html.endswith(" end")
        assert "$" not in html


class TestMathsText:
    @pytest.mark.parametrize(
        ("source", "text"),
        [
            (r"Sorting in $\mathcal{O}(n \log n)$ time", "Sorting in O(n log n) time"),
            (r"$x^2 + y_1$", "x² + y₁"),
            (r"$\frac{1}{2}$ and $\frac{a+b}{2}$", "1/2 and (a+b)/2"),
            (r"An $\epsilon$-greedy $\alpha \leq \beta$ policy", "An ε-greedy α ≤ β policy"),
            (r"$n^{k+1}$ and $\sqrt{d}$", "n^(k+1) and √(d)"),
            ("No maths here", "No maths here"),
            (r"\(a \times b\)", "a × b"),
        ],
    )
    def test_it_writes_maths_readably(self, source, text):
        assert maths_text(source) == text
