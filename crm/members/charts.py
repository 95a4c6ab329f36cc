"""Server-rendered SVG charts: readable without JavaScript, styled only through CSS classes (the CSP
forbids inline styles), each with a text alternative and a visually hidden table for screen readers."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

from crm.formatting import plural

WIDTH = 520
HEIGHT = 180
TOP = 18  # room for the peak label
BOTTOM = 24  # room for the month labels
LEFT = 4
RIGHT = 4


def weekly_summary(weeks: list[tuple[date, int]]) -> str:
    """The chart in one sentence (its accessible name)."""
    total = sum(count for _, count in weeks)
    if not weeks:
        return "No weeks to show."
    if total == 0:
        return f"No interactions in the last {len(weeks)} weeks."
    peak_start, peak = max(weeks, key=lambda w: (w[1], w[0]))
    return (
        f"{plural(total, 'interaction')} in the last {len(weeks)} weeks; the busiest week began "
        f"{peak_start.isoformat()} with {peak}."
    )


def weekly_bar_chart(
    weeks: list[tuple[date, int]],
    *,
    chart_id: str = "weekly-chart",
    title: str = "Weekly interactions",
    summary: str | None = None,
    caption: str = "Interactions per week (weeks start on Monday, UTC)",
    column: str = "Interactions",
) -> Markup:
    """An SVG bar chart of (week start, count), oldest first, and its table fallback.

    Only weeks with a count get a bar (``rect.bar`` with ``data-week`` and ``data-count``); a
    baseline and month labels give the time axis. The defaults describe a member's interactions; other
    pages (the late-questions report) pass their own title, one-sentence summary, caption and column."""
    label = weekly_summary(weeks) if summary is None else summary
    peak = max((count for _, count in weeks), default=0)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(weeks), 1)
    bar_w = max(slot * 0.7, 1.0)
    baseline = TOP + plot_h
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}: {escape(label)}</title>',
        f'<line class="axis" x1="{LEFT}" y1="{baseline}" x2="{WIDTH - RIGHT}" y2="{baseline}"/>',
    ]
    last_month = None
    for n, (start, count) in enumerate(weeks):
        x = LEFT + n * slot + (slot - bar_w) / 2
        if start.month != last_month:
            last_month = start.month
            parts.append(f'<text class="tick" x="{LEFT + n * slot:.1f}" y="{HEIGHT - 6}">{start.strftime("%b")}</text>')
        if count and peak:
            h = max(plot_h * count / peak, 2.0)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{baseline - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'data-week="{start.isoformat()}" data-count="{count}">'
                f"<title>Week of {start.isoformat()}: {count}</title></rect>"
            )
            if count == peak:
                parts.append(
                    f'<text class="value" x="{x + bar_w / 2:.1f}" y="{baseline - h - 3:.1f}" '
                    f'text-anchor="middle">{count}</text>'
                )
    parts.append("</svg>")
    rows = "".join(f'<tr><th scope="row">{start.isoformat()}</th><td>{count}</td></tr>' for start, count in weeks)
    parts.append(
        # The wrapper, not the table, is hidden: a table grows to its content and would widen the page.
        f'<div class="visually-hidden"><table><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">Week of</th><th scope="col">{escape(column)}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
    return Markup("".join(parts))
