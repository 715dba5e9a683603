"""PDF reports drawn with reportlab: a heading (workspace, period, filters, totals), a bar
chart of the groups and their table (summary), entries under day or project headings with
subtotals (detailed), or the weekly grid. Fonts come from the system (DejaVu, for the
widest range of letters) or, without it, the Vera fonts reportlab ships; nothing is fetched.
"""

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.reports.document import EntryGroup, Heading, Totalled, hours, money

MEDIA_TYPE = "application/pdf"
# The chart shows the largest groups; the table below lists every one.
CHART_GROUPS = 12
_SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
_BUNDLED_FONTS = Path(reportlab.__file__).parent / "fonts"
_FONTS: tuple[str, str] | None = None


def _fonts() -> tuple[str, str]:
    """The regular and bold font names, registered on first use."""
    global _FONTS
    if _FONTS is None:
        regular, bold = _SYSTEM_FONTS / "DejaVuSans.ttf", _SYSTEM_FONTS / "DejaVuSans-Bold.ttf"
        if not (regular.exists() and bold.exists()):
            regular, bold = _BUNDLED_FONTS / "Vera.ttf", _BUNDLED_FONTS / "VeraBd.ttf"
        pdfmetrics.registerFont(TTFont("Report", str(regular)))
        pdfmetrics.registerFont(TTFont("Report-Bold", str(bold)))
        _FONTS = ("Report", "Report-Bold")
    return _FONTS


class _Styles:
    def __init__(self) -> None:
        regular, bold = _fonts()
        self.regular, self.bold = regular, bold
        self.title = ParagraphStyle("title", fontName=bold, fontSize=16, leading=20)
        self.text = ParagraphStyle("text", fontName=regular, fontSize=9, leading=12)
        self.cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=10)
        self.section = ParagraphStyle(
            "section", fontName=bold, fontSize=11, leading=14, spaceBefore=8
        )


def _heading(heading: Heading, styles: _Styles, totals: Totalled | None) -> list[Flowable]:
    lines = [
        f"<b>Workspace:</b> {escape(heading.workspace)}",
        f"<b>Period:</b> {escape(heading.period)} ({escape(heading.timezone)})",
        "<b>Filters:</b> " + (escape("; ".join(heading.filters)) or "none"),
    ]
    if totals is not None:
        summary = (
            f"<b>Total:</b> {hours(totals.seconds)} h, billable {hours(totals.billable_seconds)} h"
        )
        if totals.amount_cents is not None:
            summary += f", {escape(money(totals.amount_cents, heading.currency))}"
        lines.append(summary)
    flowables: list[Flowable] = [Paragraph(escape(heading.title), styles.title)]
    flowables += [Paragraph(line, styles.text) for line in lines]
    flowables.append(Spacer(1, 4 * mm))
    return flowables


def _table(
    rows: list[list[Any]], widths: Sequence[float], styles: _Styles, bold_rows: Sequence[int]
) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), styles.regular),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("FONTNAME", (0, 0), (-1, 0), styles.bold),
        ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index in bold_rows:
        commands.append(("FONTNAME", (0, index), (-1, index), styles.bold))
        commands.append(("LINEABOVE", (0, index), (-1, index), 0.25, colors.grey))
    table.setStyle(TableStyle(commands))
    return table


def _chart(groups: Sequence[Totalled], styles: _Styles, width: float) -> Drawing:
    """Hours of the largest groups as horizontal bars."""
    shown = sorted(groups, key=lambda group: -group.seconds)[:CHART_GROUPS]
    shown.reverse()  # the chart draws its first category at the bottom
    bar_height = 14
    height = bar_height * len(shown) + 30
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 120, 20
    chart.width, chart.height = width - 140, height - 30
    chart.data = [[round(group.seconds / 3600, 2) for group in shown]]
    chart.categoryAxis.categoryNames = [_short(group.label, 24) for group in shown]
    chart.categoryAxis.labels.fontName = styles.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = styles.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#0b7285")
    chart.barLabelFormat = "%.1f h"
    chart.barLabels.fontName = styles.regular
    chart.barLabels.fontSize = 6
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def _short(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _render(flowables: list[Flowable], title: str, *, wide: bool = False) -> bytes:
    buffer = io.BytesIO()
    page = landscape(A4) if wide else A4
    document = SimpleDocTemplate(
        buffer,
        pagesize=page,
        title=title,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(flowables)
    return buffer.getvalue()


def summary_pdf(heading: Heading, totals: Totalled, groups: Sequence[Totalled]) -> bytes:
    """The summary report: heading, a chart of the groups, and the groups with their
    sub-groups in a table."""
    styles = _Styles()
    flowables = _heading(heading, styles, totals)
    width = A4[0] - 30 * mm
    if groups:
        flowables += [_chart(groups, styles, width), Spacer(1, 4 * mm)]
    shows_amounts = totals.amount_cents is not None
    rows: list[list[Any]] = [["Group", "Hours", "Billable", *(["Amount"] if shows_amounts else [])]]
    bold_rows = []

    def line(label: Any, group: Totalled) -> list[Any]:
        cells = [label, hours(group.seconds), hours(group.billable_seconds)]
        if shows_amounts:
            cells.append(money(group.amount_cents, heading.currency))
        return cells

    for group in groups:
        bold_rows.append(len(rows))
        rows.append(line(Paragraph(escape(group.label), styles.cell), group))
        for child in group.groups:
            rows.append(
                line(Paragraph("&nbsp;&nbsp;&nbsp;" + escape(child.label), styles.cell), child)
            )
    bold_rows.append(len(rows))
    rows.append(line("Total", totals))
    amount_width = [30 * mm] if shows_amounts else []
    label_width = width - 40 * mm - sum(amount_width)
    flowables.append(
        _table(rows, [label_width, 20 * mm, 20 * mm, *amount_width], styles, bold_rows)
    )
    return _render(flowables, heading.title)


def detailed_pdf(heading: Heading, groups: Sequence[EntryGroup], totals: Totalled) -> bytes:
    """The detailed report: each group's entries under its heading, with a subtotal."""
    styles = _Styles()
    flowables = _heading(heading, styles, totals)
    shows_amounts = totals.amount_cents is not None
    width = A4[0] - 30 * mm
    fixed = [22 * mm, 28 * mm, 30 * mm, 16 * mm, *([24 * mm] if shows_amounts else [])]
    widths = [fixed[0], fixed[1], fixed[2], width - sum(fixed), *fixed[3:]]
    for group in groups:
        flowables.append(Paragraph(escape(group.label), styles.section))
        rows: list[list[Any]] = [
            [
                "Start",
                "Who",
                "Project",
                "Description",
                "Hours",
                *(["Amount"] if shows_amounts else []),
            ]
        ]
        for entry in group.entries:
            rows.append(
                [
                    entry.start,
                    Paragraph(escape(entry.user), styles.cell),
                    Paragraph(escape(entry.project), styles.cell),
                    Paragraph(escape(entry.description), styles.cell),
                    hours(entry.seconds),
                    *([money(entry.amount_cents, heading.currency)] if shows_amounts else []),
                ]
            )
        rows.append(
            [
                "Subtotal",
                "",
                "",
                "",
                hours(group.seconds),
                *([money(group.amount_cents, heading.currency)] if shows_amounts else []),
            ]
        )
        table = _table(rows, widths, styles, [len(rows) - 1])
        table.setStyle(TableStyle([("ALIGN", (0, 0), (3, -1), "LEFT")]))
        flowables.append(table)
    return _render(flowables, heading.title)


def weekly_pdf(
    heading: Heading,
    days: Sequence[date],
    rows: Sequence[tuple[str, Sequence[int], int]],
    day_totals: Sequence[int],
    total: int,
) -> bytes:
    """The weekly timesheet: one line per person (or project), one column per day."""
    styles = _Styles()
    flowables = _heading(heading, styles, None)
    header = ["", *(day.strftime("%a %d.%m.") for day in days), "Total"]
    table_rows: list[list[Any]] = [header]
    for label, seconds, row_total in rows:
        table_rows.append(
            [
                Paragraph(escape(label), styles.cell),
                *(hours(value) if value else "" for value in seconds),
                hours(row_total),
            ]
        )
    table_rows.append(["Total", *(hours(value) for value in day_totals), hours(total)])
    width = landscape(A4)[0] - 30 * mm
    day_width = 22 * mm
    widths = [width - day_width * (len(days) + 1), *[day_width] * (len(days) + 1)]
    flowables.append(_table(table_rows, widths, styles, [len(table_rows) - 1]))
    return _render(flowables, heading.title, wide=True)
