"""Small line charts of a KPI over weeks, drawn on the server.

One geometry, two outputs: inline SVG for the PDF (wkhtmltopdf), the report on
screen and the dashboard, and PNG (Pillow) for the email, since many mail
clients (Gmail, Outlook) do not show inline SVG. Nothing is fetched from the
internet: the PNG's font is the Lato shipped with Odoo's web addon.
"""

import functools
import io
import math

from markupsafe import Markup, escape
from PIL import Image, ImageDraw, ImageFont

from odoo.tools.misc import file_open

FONT_PATH = "web/static/fonts/lato/Lato-Reg-webfont.ttf"
FONT_FAMILY = "Arial, Helvetica, sans-serif"
LINE_COLOR = "#2f6fb0"
GRID_COLOR = "#e3e3e3"
TEXT_COLOR = "#777777"
# the PNG is drawn at SUPERSAMPLE times its pixel size, then reduced: smooth lines
SUPERSAMPLE = 2


def _nice_step(span, intervals):
    """A round step (1, 2, 2.5 or 5 times a power of ten) dividing ``span`` into
    about ``intervals`` intervals."""
    raw = span / intervals
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


class TrendChart:
    """A line chart of ``points`` (``[(label, value)]``, oldest first; a value of
    ``None`` leaves a gap), ``width`` x ``height`` pixels.

    ``format_tick(value)`` formats the values of the horizontal grid lines; the
    labels of the first and the last point are written under the axis.
    """

    PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 10, 10, 20
    FONT_SIZE = 10

    def __init__(self, points, format_tick, width=360, height=150, title=""):
        self.points = list(points)
        self.format_tick = format_tick
        self.width, self.height = width, height
        self.title = title
        self._layout()

    # -------------------------------------------------------------------------
    # Geometry
    # -------------------------------------------------------------------------

    def _layout(self):
        values = [value for _label, value in self.points if value is not None]
        left, right = self.PAD_LEFT, self.width - self.PAD_RIGHT
        top, bottom = self.PAD_TOP, self.height - self.PAD_BOTTOM
        self.plot = (left, top, right, bottom)
        self.ticks, self.segments, self.dots, self.x_labels = [], [], [], []
        if not values:
            return
        low, high = min(values), max(values)
        if math.isclose(low, high, abs_tol=1e-9):
            # a flat line in the middle of a small range around it
            margin = abs(low) * 0.1 or 1.0
            low, high = low - margin, high + margin
        step = _nice_step(high - low, 3)
        low = math.floor(low / step) * step
        high = math.ceil(high / step) * step

        def y_of(value):
            return bottom - (value - low) / (high - low) * (bottom - top)

        count = len(self.points)
        spacing = (right - left) / (count - 1) if count > 1 else 0.0

        def x_of(index):
            return left + index * spacing if count > 1 else (left + right) / 2

        tick = low
        while tick <= high + step / 2:
            self.ticks.append((round(y_of(tick), 1), self.format_tick(tick)))
            tick += step
        segment = []
        for index, (_label, value) in enumerate(self.points):
            if value is None:
                if segment:
                    self.segments.append(segment)
                segment = []
                continue
            point = (round(x_of(index), 1), round(y_of(value), 1))
            segment.append(point)
            self.dots.append(point)
        if segment:
            self.segments.append(segment)
        self.x_labels = [(round(x_of(0), 1), "start", self.points[0][0])]
        if count >= 5:
            middle = count // 2
            self.x_labels.append(
                (round(x_of(middle), 1), "middle", self.points[middle][0])
            )
        if count > 1:
            self.x_labels.append((round(x_of(count - 1), 1), "end", self.points[-1][0]))

    # -------------------------------------------------------------------------
    # SVG
    # -------------------------------------------------------------------------

    def svg(self, responsive=False):
        """The chart as inline SVG markup (``responsive``: as wide as its
        container, its height following)."""
        left, top, right, bottom = self.plot
        size = (
            'width="100%" style="display: block; height: auto;"'
            if responsive
            else f'width="{self.width}" height="{self.height}"'
        )
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" {size} '
            f'viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(self.title)}" font-family="{FONT_FAMILY}" '
            f'font-size="{self.FONT_SIZE}">',
            f'<rect x="0" y="0" width="{self.width}" height="{self.height}" '
            'fill="#ffffff"/>',
        ]
        for y, label in self.ticks:
            parts.append(
                f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" '
                f'stroke="{GRID_COLOR}" stroke-width="1"/>'
            )
            parts.append(
                f'<text x="{left - 5}" y="{y + 3.5}" text-anchor="end" '
                f'fill="{TEXT_COLOR}">{escape(label)}</text>'
            )
        for x, anchor, label in self.x_labels:
            parts.append(
                f'<text x="{x}" y="{bottom + 14}" text-anchor="{anchor}" '
                f'fill="{TEXT_COLOR}">{escape(label)}</text>'
            )
        for segment in self.segments:
            if len(segment) > 1:
                points = " ".join(f"{x},{y}" for x, y in segment)
                parts.append(
                    f'<polyline fill="none" stroke="{LINE_COLOR}" stroke-width="2" '
                    f'stroke-linejoin="round" points="{points}"/>'
                )
        for index, (x, y) in enumerate(self.dots):
            radius = 3.5 if index == len(self.dots) - 1 else 2
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{LINE_COLOR}"/>'
            )
        parts.append("</svg>")
        # every text above is escaped, every number formatted here
        return Markup("".join(parts))

    # -------------------------------------------------------------------------
    # PNG
    # -------------------------------------------------------------------------

    def png(self, scale=2):
        """The chart as PNG bytes, ``scale`` times its size in pixels (sharp on
        high-density screens when shown at its size)."""
        factor = scale * SUPERSAMPLE

        def at(value):
            return value * factor

        image = Image.new("RGB", (self.width * factor, self.height * factor), "white")
        draw = ImageDraw.Draw(image)
        font = self._font(self.FONT_SIZE * factor)
        left, _top, right, bottom = self.plot
        for y, label in self.ticks:
            draw.line([(at(left), at(y)), (at(right), at(y))], GRID_COLOR, factor)
            draw.text(
                (at(left - 5), at(y)), label, fill=TEXT_COLOR, font=font, anchor="rm"
            )
        for x, anchor, label in self.x_labels:
            draw.text(
                (at(x), at(bottom + 14)),
                label,
                fill=TEXT_COLOR,
                font=font,
                anchor={"start": "ls", "middle": "ms", "end": "rs"}[anchor],
            )
        for segment in self.segments:
            if len(segment) > 1:
                draw.line(
                    [(at(x), at(y)) for x, y in segment],
                    LINE_COLOR,
                    2 * factor,
                    joint="curve",
                )
        for index, (x, y) in enumerate(self.dots):
            radius = at(3.5 if index == len(self.dots) - 1 else 2)
            draw.ellipse(
                [at(x) - radius, at(y) - radius, at(x) + radius, at(y) + radius],
                fill=LINE_COLOR,
            )
        # averaging each square of SUPERSAMPLE x SUPERSAMPLE pixels smooths the
        # edges, at a fraction of the cost of a resampling filter
        image = image.reduce(SUPERSAMPLE)
        output = io.BytesIO()
        image.save(output, format="PNG")
        return output.getvalue()

    @staticmethod
    def _font(size):
        data = _font_data()
        if not data:
            return ImageFont.load_default()
        return ImageFont.truetype(io.BytesIO(data), size)


@functools.cache
def _font_data():
    """The bytes of the PNG's font (read once), or ``b""`` when it is missing."""
    try:
        with file_open(FONT_PATH, "rb") as font_file:
            return font_file.read()
    except OSError:
        return b""
