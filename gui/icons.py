"""The legend's icons, drawn with QPainter (no image files, crisp at any size).

One small drawing per icon name of `boardcc.gui.legend.Look`; `icon(look, size)` caches the
pixmap, so the grid draws each cell's icon with one blit.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

from boardcc.gui.legend import Look

_cache: dict[tuple[Look, int], QPixmap] = {}


def icon(look: Look, size: int = 16) -> QPixmap:
    """The icon of `look`, `size` pixels square, in a colour that reads on its fill."""
    key = (look, size)
    pixmap = _cache.get(key)
    if pixmap is None:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = QColor("#ffffff" if look.dark else "#202020")
        p.setPen(QPen(ink, max(1.0, size / 10)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.scale(size / 16, size / 16)
        _DRAW[look.icon](p, ink)
        p.end()
        _cache[key] = pixmap
    return pixmap


def _cross(p: QPainter, ink: QColor) -> None:
    p.drawLine(QPointF(3, 3), QPointF(13, 13))
    p.drawLine(QPointF(13, 3), QPointF(3, 13))


def _blank(p: QPainter, ink: QColor) -> None:
    p.drawRect(QRectF(3, 3, 10, 10))


def _dot(p: QPainter, ink: QColor) -> None:
    p.setBrush(ink)
    p.drawEllipse(QPointF(8, 8), 3.5, 3.5)


def _bell(p: QPainter, ink: QColor) -> None:
    path = QPainterPath()
    path.moveTo(3, 12)
    path.cubicTo(5, 10, 4, 3, 8, 3)
    path.cubicTo(12, 3, 11, 10, 13, 12)
    path.closeSubpath()
    p.setBrush(ink)
    p.drawPath(path)
    p.drawEllipse(QPointF(8, 13.5), 1.5, 1.5)


def _keypad(p: QPainter, ink: QColor) -> None:
    p.setBrush(ink)
    for row in range(3):
        for col in range(3):
            p.drawEllipse(QPointF(4 + 4 * col, 4 + 4 * row), 1.2, 1.2)


def _waves(p: QPainter, ink: QColor) -> None:
    p.setBrush(ink)
    p.drawEllipse(QPointF(4, 8), 1.5, 1.5)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for r in (4.0, 7.5, 11.0):
        p.drawArc(QRectF(4 - r, 8 - r, 2 * r, 2 * r), -45 * 16, 90 * 16)


def _handset(p: QPainter, ink: QColor) -> None:
    path = QPainterPath()
    path.moveTo(3, 5)
    path.quadTo(3, 3, 5, 3)
    path.lineTo(6.5, 6)
    path.lineTo(5, 7.5)
    path.quadTo(6.5, 10, 8.5, 11)
    path.lineTo(10, 9.5)
    path.lineTo(13, 11)
    path.quadTo(13, 13, 11, 13)
    path.quadTo(4, 12, 3, 5)
    p.setBrush(ink)
    p.drawPath(path)


def _pause(p: QPainter, ink: QColor) -> None:
    p.setBrush(ink)
    p.drawRect(QRectF(4, 3, 2.5, 10))
    p.drawRect(QRectF(9.5, 3, 2.5, 10))


def _down(p: QPainter, ink: QColor) -> None:
    p.drawLine(QPointF(8, 2), QPointF(8, 12))
    p.drawLine(QPointF(4, 8.5), QPointF(8, 12.5))
    p.drawLine(QPointF(12, 8.5), QPointF(8, 12.5))
    p.drawLine(QPointF(3, 14), QPointF(13, 14))


def _page(p: QPainter, ink: QColor) -> None:
    p.drawRect(QRectF(4, 2, 8, 12))
    for y in (5.0, 8.0, 11.0):
        p.drawLine(QPointF(5.5, y), QPointF(10.5, y))


def _broken(p: QPainter, ink: QColor) -> None:
    p.setPen(QPen(QColor("#ff5252"), 2))
    p.drawLine(QPointF(1, 8), QPointF(6, 8))
    p.drawLine(QPointF(10, 8), QPointF(15, 8))
    p.drawLine(QPointF(6, 8), QPointF(8, 4))
    p.drawLine(QPointF(10, 8), QPointF(8, 12))


def _person(p: QPainter, ink: QColor) -> None:
    p.setBrush(ink)
    p.drawEllipse(QPointF(8, 5), 2.8, 2.8)
    p.drawChord(QRectF(2.5, 9, 11, 10), 0, 180 * 16)


def _pc(p: QPainter, ink: QColor) -> None:
    p.drawRect(QRectF(2, 2.5, 12, 8))
    p.drawLine(QPointF(8, 10.5), QPointF(8, 13))
    p.drawLine(QPointF(5, 13.5), QPointF(11, 13.5))
    p.setBrush(ink)
    p.drawEllipse(QPointF(8, 5.5), 1.6, 1.6)


_DRAW: dict[str, Callable[[QPainter, QColor], None]] = {
    "cross": _cross,
    "blank": _blank,
    "dot": _dot,
    "bell": _bell,
    "keypad": _keypad,
    "waves": _waves,
    "handset": _handset,
    "pause": _pause,
    "down": _down,
    "page": _page,
    "broken": _broken,
    "person": _person,
    "pc": _pc,
}
