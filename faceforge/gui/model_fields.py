"""The New-run dialog's fields that depend on the model: what each loss and conditioning is called, and boxes that
offer only what the chosen model's registry capabilities list (a loss it cannot train with is never offered, so
it can never be chosen). Also the dialog's small field builders.
"""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

LOSS_TEXT = {
    "bce": "bce (non-saturating)",
    "wgan-gp": "wgan-gp",
    "hinge": "hinge",
    "rahinge": "rahinge (relativistic average hinge)",
}

CONDITIONING_TEXT = {
    "input": "input: y beside z in G, as maps at D's first layer",
    "projection": "projection discriminator (Miyato & Koyama)",
    "acgan": "auxiliary classifier: D also predicts y (AC-GAN)",
    "cbn": "conditional BatchNorm in G, projection D",
}


def offer(combo: QComboBox, choices: tuple[str, ...], texts: dict[str, str], *, keep: str | None,
          fallback: str) -> None:
    """Fill ``combo`` with ``choices`` only (in the registry's order), selecting ``keep`` when it is still offered,
    else ``fallback`` (the model's default). One choice leaves the box disabled: there is nothing to decide, but
    the person still sees what the model does. Signals are blocked: refilling is not a choice."""
    combo.blockSignals(True)
    combo.clear()
    for name in choices:
        combo.addItem(texts.get(name, name), name)
    select(combo, keep if keep in choices else fallback)
    combo.setEnabled(len(choices) > 1)
    combo.blockSignals(False)


def offered(combo: QComboBox) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count())]


def spin(lo: int, hi: int, value: int, step: int = 1) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    s.setGroupSeparatorShown(True)
    return s


def lr_spin() -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setDecimals(6)
    s.setRange(1e-6, 1.0)
    s.setSingleStep(5e-5)
    s.setValue(2e-4)
    return s


def select(combo: QComboBox, value) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)
