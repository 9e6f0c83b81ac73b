"""Line charts as plain SVG, laid out here and drawn by templates/charts/_line_chart.html.

No JavaScript and no inline style: colours are SVG presentation attributes (allowed by a
strict Content-Security-Policy), axes and text use currentColor so they follow the page's
light or dark colours. Every chart carries a title, a one-sentence text alternative and
its data as a table.
"""

from dataclasses import dataclass, field

# Mid-tone colours that keep their contrast on white and on a dark background.
PALETTE = ["#3d8bfd", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#868e96"]
WIDTH, HEIGHT = 400, 210
LEFT, RIGHT, TOP, BOTTOM = 62, 12, 14, 30


@dataclass
class Line:
    name: str
    values: list  # numbers or None (a gap)
    colour: str = ""
    points: str = ""


@dataclass
class Chart:
    id: str
    title: str
    summary: str
    labels: list[str]
    lines: list[Line]
    unit: str = ""
    references: list = field(default_factory=list)  # [{"y", "label", "value"}]
    highlight: dict | None = None  # {"x", "width", "label"}
    ticks: list = field(default_factory=list)  # [{"y", "label"}]
    x_labels: list = field(default_factory=list)  # [{"x", "label", "anchor"}]
    x_name: str = "Date"  # heading of the data table's first column
    gain_label: str = ""  # the highlighted gain, repeated in text beside the chart
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def rows(self):
        """The data table: one row per label, one formatted cell per line (formatted here:
        hundreds of template filter calls cost more than the rest of a dashboard)."""
        return [
            (label, [_cell(line.values[i], self.unit) for line in self.lines])
            for i, label in enumerate(self.labels)
        ]


def _cell(value, unit: str) -> str:
    if value is None:
        return "\u2013"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") + unit


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.2f}%".replace(".00%", "%")
    if abs(value) >= 100_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}"


def line_chart(
    *,
    id: str,
    title: str,
    summary: str,
    labels: list[str],
    lines: list[tuple[str, list]],
    unit: str = "",
    references: list[tuple[float, str]] = (),
    highlight: tuple[int, int, str] | None = None,
    minimum: float | None = 0,
    x_name: str = "Date",
) -> Chart:
    """Lay out `lines` (name, values) over `labels`. `references` are horizontal lines
    (value, label), e.g. Gmail's 0.3%; `highlight` shades the points from index i to j
    with a label, e.g. the star gain that made a paper trend."""
    chart = Chart(
        id=id,
        title=title,
        summary=summary,
        labels=labels,
        unit=unit,
        x_name=x_name,
        lines=[
            Line(name, list(values), PALETTE[i % len(PALETTE)])
            for i, (name, values) in enumerate(lines)
        ],
    )
    known = [v for line in chart.lines for v in line.values if v is not None]
    known += [value for value, _ in references]
    top = max(known, default=0)
    bottom = min(known, default=0) if minimum is None else minimum
    if top <= bottom:
        top = bottom + 1
    top += (top - bottom) * 0.08  # headroom, so a line at the maximum stays visible
    plot_w = chart.right_edge - LEFT
    plot_h = chart.baseline - TOP
    count = max(len(labels), 1)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(value: float) -> float:
        return chart.baseline - plot_h * (value - bottom) / (top - bottom)

    for line in chart.lines:
        # A gap (None) starts a new run: "M" moves without drawing.
        parts, pen_down = [], False
        for i, value in enumerate(line.values):
            if value is None:
                pen_down = False
                continue
            parts.append(f"{'L' if pen_down else 'M'}{x(i):.1f},{y(value):.1f}")
            pen_down = True
        line.points = " ".join(parts)
    chart.ticks = [
        {"y": round(y(v), 1), "label": _fmt(v, unit)}
        for v in (bottom, bottom + (top - bottom) / 2, top)
    ]
    chart.references = [
        {"y": round(y(value), 1), "label": label, "value": value} for value, label in references
    ]
    if labels:
        picks = sorted({0, (count - 1) // 2, count - 1})
        anchors = {0: "start", count - 1: "end"}
        chart.x_labels = [
            {"x": round(x(i), 1), "label": labels[i], "anchor": anchors.get(i, "middle")}
            for i in picks
        ]
    if highlight and count > 1:
        start, end, label = highlight
        chart.gain_label = label
        left, right = x(max(start, 0)), x(min(end, count - 1))
        chart.highlight = {
            "x": round(left, 1),
            "width": round(max(right - left, 4), 1),
            "label": label,
            "label_x": chart.right_edge - 4,
            "label_y": chart.baseline - 8,  # low: a gain ends high, the bottom is free
        }
    return chart
