"""numpy images to Qt images, and a widget that shows small GAN output big enough to see.

Workers hand over plain uint8 arrays; the QImage (and any QPixmap) is made here, on the GUI thread, as the Qt
mandelbrot example does for pixmaps. A 32-pixel face is unreadable at 1:1, so ``PixelView`` scales with
nearest-neighbour by a whole factor (crisp pixels, no blur) whenever the image fits at least 1:1.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


def qimage_from_array(array: np.ndarray) -> QImage:
    """(H,W,3) or (H,W) uint8 -> an independent QImage (the numpy buffer may be freed afterwards)."""
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    h, w, c = a.shape
    if c == 4:
        return QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    if c != 3:
        raise ValueError(f"expected an RGB image, got shape {a.shape}")
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class PixelView(QWidget):
    """Shows one image centred and as large as fits, nearest-neighbour scaled (by a whole factor from 2x up, so
    every source pixel is the same size); smooth only when shrinking. A hint text when empty."""

    def __init__(self, parent: QWidget | None = None, *, empty_text: str = "", min_side: int = 128,
                 max_scale: float = 0.0):
        super().__init__(parent)
        self._max_scale = max_scale  # 0 = as large as fits
        self._image: QImage | None = None
        self._array: np.ndarray | None = None
        self._empty_text = empty_text
        self.setMinimumSize(min_side, min_side)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_array(self, array: np.ndarray | None) -> None:
        self._array = None if array is None else np.asarray(array)
        self._image = None if array is None else qimage_from_array(array)
        self.update()

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        if self._image is None:
            self.update()

    def array(self) -> np.ndarray | None:
        """The array currently shown (for exporting exactly what the user sees)."""
        return self._array

    def image(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(320, 320)

    def target_rect(self) -> QRect:
        """Where the image is drawn: a whole-number scale from 2x up, else exactly as large as fits."""
        if self._image is None:
            return QRect()
        w, h = self._image.width(), self._image.height()
        avail_w, avail_h = max(1, self.width() - 4), max(1, self.height() - 4)
        scale = min(avail_w / w, avail_h / h)
        if self._max_scale:
            scale = min(scale, self._max_scale)
        if scale >= 2:  # whole pixels when that still fills most of the space; else fill it (still nearest)
            scale = float(int(scale))
        tw, th = max(1, int(w * scale)), max(1, int(h * scale))
        return QRect((self.width() - tw) // 2, (self.height() - th) // 2, tw, th)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._image is None:
            if self._empty_text:
                painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
                painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._empty_text)
            return
        rect = self.target_rect()
        scaled_down = rect.width() < self._image.width()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scaled_down)
        painter.drawImage(rect, self._image)
