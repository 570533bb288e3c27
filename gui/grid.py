"""The channel grid: one cell per channel of every board, in the legend's colour and icon.

One widget paints every cell itself (no widget per channel: 240 labels would cost more
than the whole picture). `refresh(dirty)` asks Qt to repaint just those cells' rectangles;
Qt merges them and paints once per frame, and `paintEvent` draws only the cells inside the
region asked for. A cell shows the channel number and kind, the state, the caller and
called numbers, the IVR node or the agent or extension, and the time in state. A click
selects a channel (`channelClicked`). While disconnected the whole grid is greyed and
crossed, so stale states cannot be mistaken for live ones.
"""

from __future__ import annotations

from PyQt6.QtCore import QCoreApplication, QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
)
from PyQt6.QtWidgets import QSizePolicy, QWidget

from boardcc.gui import i18n
from boardcc.gui.icons import icon
from boardcc.gui.legend import QT_TRANSLATE_NOOP, Look
from boardcc.gui.model import Channel, MonitorModel

KINDS = {
    "trunk": QT_TRANSLATE_NOOP("grid", "trunk"),
    "station": QT_TRANSLATE_NOOP("grid", "station"),
    "record": QT_TRANSLATE_NOOP("grid", "record"),
    "empty": QT_TRANSLATE_NOOP("grid", "empty"),
}

CELL_W, CELL_H, GAP = 180, 72, 4


def clock_text(seconds: float) -> str:
    """Time in state as the grid shows it: 42, 3:07, 1:02:03."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class ChannelGrid(QWidget):
    """Paints `model`'s channels as a grid of cells that wraps to the widget's width."""

    channelClicked = pyqtSignal(int)

    def __init__(self, model: MonitorModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.selected: int | None = None
        self.columns = 1
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._bold = QFont(self.font())
        self._bold.setBold(True)
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(6.0, self.font().pointSizeF() - 1))
        self._kinds = {k: QCoreApplication.translate("grid", v) for k, v in KINDS.items()}
        self._line = max(self.fontMetrics().lineSpacing() + 2, 15)
        self._small_line = max(QFontMetrics(self._small).lineSpacing() + 1, 13)
        self._cells: dict[int, tuple[tuple[object, ...], QPixmap]] = {}

    # -- geometry ------------------------------------------------------------------------------

    def _layout(self, width: int) -> int:
        return max(1, (width - GAP) // (CELL_W + GAP))

    def cell_rect(self, index: int) -> QRect:
        row, col = divmod(index, self.columns)
        return QRect(GAP + col * (CELL_W + GAP), GAP + row * (CELL_H + GAP), CELL_W, CELL_H)

    def index_at(self, x: int, y: int) -> int | None:
        col, row = (x - GAP) // (CELL_W + GAP), (y - GAP) // (CELL_H + GAP)
        if col < 0 or col >= self.columns or row < 0:
            return None
        index = row * self.columns + col
        if index >= len(self.model.channels) or not self.cell_rect(index).contains(x, y):
            return None
        return index

    def heightForWidth(self, width: int) -> int:
        rows = -(-len(self.model.channels) // self._layout(width))
        return GAP + rows * (CELL_H + GAP)

    def hasHeightForWidth(self) -> bool:
        return True

    def sizeHint(self) -> QSize:
        width = 8 * (CELL_W + GAP) + GAP
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(CELL_W + 2 * GAP, CELL_H + 2 * GAP)

    def resizeEvent(self, event: object) -> None:
        self.columns = self._layout(self.width())
        self.setMinimumHeight(self.heightForWidth(self.width()))

    # -- updates -------------------------------------------------------------------------------

    def relayout(self) -> None:
        """The number of channels changed (a new snapshot)."""
        self._cells.clear()
        self.columns = self._layout(self.width())
        self.setMinimumHeight(self.heightForWidth(self.width()))
        self.update()

    def refresh(self, dirty: set[int] | None = None) -> None:
        """Repaint the cells in `dirty`, or all of them."""
        if dirty is None or len(dirty) > len(self.model.channels) // 2:
            self.update()
            return
        for i in dirty:
            self.update(self.cell_rect(i))

    # -- input and painting -----------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        if event is None:
            return
        index = self.index_at(int(event.position().x()), int(event.position().y()))
        if index is not None:
            previous, self.selected = self.selected, index
            self.refresh({index} | ({previous} if previous is not None else set()))
            self.channelClicked.emit(index)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        if event is None:
            return
        p = QPainter(self)
        area = event.rect()
        p.fillRect(area, self.palette().window())
        model = self.model
        first = max(0, (area.top() - GAP) // (CELL_H + GAP)) * self.columns
        last = min(len(model.channels), ((area.bottom() // (CELL_H + GAP)) + 1) * self.columns)
        for i in range(first, last):
            rect = self.cell_rect(i)
            if rect.intersects(area):
                self._paint_cell(p, rect, model.channels[i])
        if not model.connected and model.channels:
            p.fillRect(area, QColor(90, 90, 90, 150))
            p.setPen(QPen(QColor(255, 255, 255, 90), 1))
            for x in range(area.left() - area.height(), area.right(), 24):
                p.drawLine(x, area.bottom(), x + area.height(), area.top())
        p.end()

    def _paint_cell(self, p: QPainter, rect: QRect, ch: Channel) -> None:
        """A cell is a cached picture of what changes with its state, plus the time in state
        drawn on top (it changes every second; everything else only on events)."""
        data, look = ch.data, ch.look
        numbers = ""
        if data.get("caller") or data.get("called"):
            numbers = f"{data.get('caller') or '-'} → {data.get('called') or '-'}"
        key = (
            look,
            str(data.get("kind", "")),
            i18n.state_name(data),
            numbers,
            _who(self.model, ch),
            ch.index == self.selected,
        )
        cached = self._cells.get(ch.index)
        if cached is None or cached[0] != key:
            cached = (key, self._render_cell(ch.index, *key))
            self._cells[ch.index] = cached
        p.drawPixmap(rect.topLeft(), cached[1])
        if data.get("code") not in (0, 1, 10) or look.name.startswith("AGENT"):
            p.setPen(QColor("#ffffff" if look.dark else "#1a1a1a"))
            p.setFont(self._bold)
            since = clock_text(self.model.time_in_state(ch))
            p.drawText(rect.adjusted(24, 3, -4, -3), Qt.AlignmentFlag.AlignRight, since)

    def _render_cell(
        self, index: int, look: Look, kind: str, state: str, numbers: str, who: str, selected: bool
    ) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(round(CELL_W * ratio), round(CELL_H * ratio))
        pixmap.setDevicePixelRatio(ratio)
        rect = QRect(0, 0, CELL_W, CELL_H)
        p = QPainter(pixmap)
        p.fillRect(rect, QColor(look.colour))
        if selected:
            p.setPen(QPen(QColor("#1565c0"), 3))
            p.drawRect(rect.adjusted(1, 1, -2, -2))
        p.drawPixmap(4, 4, icon(look, 16))
        line, small = self._line, self._small_line
        p.setPen(QColor("#ffffff" if look.dark else "#1a1a1a"))
        p.setFont(self._bold)
        shown_kind = self._kinds.get(kind, kind)
        p.drawText(
            rect.adjusted(24, 3, -4, -3), Qt.AlignmentFlag.AlignLeft, f"{index:03d} {shown_kind}"
        )
        p.setFont(self.font())
        text = rect.adjusted(5, 3 + line, -4, -3)
        p.drawText(text, Qt.AlignmentFlag.AlignLeft, state)
        p.setFont(self._small)
        if numbers:
            shown = p.fontMetrics().elidedText(numbers, Qt.TextElideMode.ElideMiddle, text.width())
            p.drawText(text.adjusted(0, line, 0, 0), Qt.AlignmentFlag.AlignLeft, shown)
        if who:
            p.drawText(text.adjusted(0, line + small, 0, 0), Qt.AlignmentFlag.AlignLeft, who)
        p.end()
        return pixmap


def _who(model: MonitorModel, ch: Channel) -> str:
    """The cell's last line: the IVR node, the agent, or the extension."""
    data = ch.data
    if data.get("node"):
        return f"IVR {data['node']}"
    agent = model.agent_at(ch)
    if agent is not None:
        name = agent.get("name") or agent.get("job", "")
        return f"{data.get('extension', '')} {name}".strip()
    return str(data.get("extension", ""))
