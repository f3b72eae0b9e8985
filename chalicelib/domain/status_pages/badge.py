"""`badge.svg`: a shields.io-style ("flat") badge of the page's overall status.

White text on every colour passes WCAG AA (at least 4.5:1); the badge names itself for screen readers
(`role="img"`, `aria-label`, `<title>`). Text widths are estimated from Verdana's average advance at
11 px: shields measures each glyph, a badge a few pixels too wide is the price of no font file.
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from chalicelib.domain.status_pages.model import ComponentStatus, PageSnapshot
from chalicelib.domain.status_pages.status import page_status

SVG = "http://www.w3.org/2000/svg"
LABEL = "status"
LABEL_COLOUR = "#555555"
BADGE_MESSAGES = {
    ComponentStatus.OPERATIONAL: ("operational", "#1a7f37"),
    ComponentStatus.UNDER_MAINTENANCE: ("maintenance", "#0969da"),
    ComponentStatus.DEGRADED_PERFORMANCE: ("degraded", "#9a6700"),
    ComponentStatus.PARTIAL_OUTAGE: ("partial outage", "#bc4c00"),
    ComponentStatus.MAJOR_OUTAGE: ("major outage", "#cf222e"),
}
_CHAR_WIDTH = 7  # px, Verdana 11 px, rounded up
_PADDING = 10  # px, both sides together
_HEIGHT = 20


def badge_svg(snapshot: PageSnapshot) -> bytes:
    """UTF-8 SVG with role="img", an aria-label and a <title>."""
    message, colour = BADGE_MESSAGES[page_status(snapshot)]
    label_width = _width(LABEL)
    message_width = _width(message)
    width = label_width + message_width
    text = f"{LABEL}: {message}"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG,
            "width": str(width),
            "height": str(_HEIGHT),
            "viewBox": f"0 0 {width} {_HEIGHT}",
            "role": "img",
            "aria-label": text,
        },
    )
    ET.SubElement(svg, "title").text = text
    gradient = ET.SubElement(svg, "linearGradient", {"id": "s", "x2": "0", "y2": "100%"})
    ET.SubElement(gradient, "stop", {"offset": "0", "stop-color": "#bbb", "stop-opacity": ".1"})
    ET.SubElement(gradient, "stop", {"offset": "1", "stop-opacity": ".1"})
    clip = ET.SubElement(svg, "clipPath", {"id": "r"})
    ET.SubElement(clip, "rect", {"width": str(width), "height": str(_HEIGHT), "rx": "3", "fill": "#fff"})
    shapes = ET.SubElement(svg, "g", {"clip-path": "url(#r)"})
    ET.SubElement(shapes, "rect", {"width": str(label_width), "height": str(_HEIGHT), "fill": LABEL_COLOUR})
    ET.SubElement(
        shapes,
        "rect",
        {"x": str(label_width), "width": str(message_width), "height": str(_HEIGHT), "fill": colour},
    )
    ET.SubElement(shapes, "rect", {"width": str(width), "height": str(_HEIGHT), "fill": "url(#s)"})
    texts = ET.SubElement(
        svg,
        "g",
        {
            "fill": "#fff",
            "text-anchor": "middle",
            "font-family": "Verdana,Geneva,DejaVu Sans,sans-serif",
            "font-size": "11",
            "aria-hidden": "true",
        },
    )
    for x, word in ((label_width / 2, LABEL), (label_width + message_width / 2, message)):
        # The shadow first, then the text: shields' look, readable on every colour.
        ET.SubElement(
            texts, "text", {"x": _num(x), "y": "15", "fill": "#010101", "fill-opacity": ".3"}
        ).text = word
        ET.SubElement(texts, "text", {"x": _num(x), "y": "14"}).text = word
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True)


def _width(text: str) -> int:
    return len(text) * _CHAR_WIDTH + _PADDING


def _num(value: float) -> str:
    return f"{value:g}"
