"""Reading the table a data-faces figure shows: a CSV or TSV with a header, one row per face.

What a person's spreadsheet export looks like decides the rules: the delimiter is a tab for ``.tsv``/``.tab`` files
and otherwise whichever of tab, comma or semicolon splits the header into the most fields; the label column is
the one asked for, else the first column whose header is empty (R's ``write.csv`` row names), else the first
column that is not numeric and names each row once, else "row 1", "row 2", ...; a column is numeric when every
value that is present parses as a number, and every other column is ignored with a note saying why; a missing
value (empty, NA, NaN, null, ?, -) becomes the column's mean and is marked, so the face is drawn but the caption
says it was filled in.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MISSING = {"", "na", "nan", "n/a", "null", "none", "?", "-", "."}


@dataclass
class DataTable:
    """Numeric columns of a table: ``values`` (rows, columns) float64 with missing values already replaced by
    their column's mean, ``missing`` (rows, columns) True where that happened, ``labels`` one caption per row."""

    columns: list[str]
    values: np.ndarray
    missing: np.ndarray
    labels: list[str]
    label_column: str | None = None
    notes: list[str] = field(default_factory=list)  # ignored columns, filled values: for people
    source: str = ""
    header: list[str] = field(default_factory=list)  # every column of the file, for choosing the label column

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, np.float64).reshape(len(self.labels), len(self.columns))
        self.missing = np.asarray(self.missing, bool).reshape(self.values.shape)

    def __len__(self) -> int:
        return len(self.labels)

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.index(name)]

    def index(self, name: str) -> int:
        """The position of column ``name`` (matched case-insensitively)."""
        lookup = {c.lower(): i for i, c in enumerate(self.columns)}
        key = str(name).strip().lower()
        if key not in lookup:
            raise ValueError(f"no numeric column {name!r}; the table's numeric columns are: {', '.join(self.columns)}")
        return lookup[key]

    def order(self, by: str | None, *, descending: bool = False) -> list[int]:
        """Row indices sorted by column ``by`` (stable; the file's order when None)."""
        if not by:
            return list(range(len(self)))
        keys = self.column(by)
        order = sorted(range(len(self)), key=lambda i: keys[i])
        return order[::-1] if descending else order

    def row_text(self, row: int) -> str:
        """"COL 7.1, COL2 8.0 (missing: mean)" for a tooltip or a click."""
        parts = []
        for j, name in enumerate(self.columns):
            value = f"{self.values[row, j]:.4g}"
            parts.append(f"{name} {value}" + (" (missing: column mean)" if self.missing[row, j] else ""))
        return "; ".join(parts)


def sniff_delimiter(header: str, suffix: str) -> str:
    if suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in ("\t", ",", ";")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _number(text: str) -> float | None:
    """A float for a numeric cell, None for a missing one; raises ValueError for text."""
    t = text.strip()
    if t.lower() in MISSING:
        return None
    value = float(t)
    return None if math.isnan(value) else value


def read_table(path: Path | str, *, label: str | None = None, text: str | None = None) -> DataTable:
    """The table at ``path`` (or its ``text``), parsed by the rules in the module docstring."""
    path = Path(path)
    if text is None:
        text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{path.name} is empty: a table needs a header line and at least one row")
    delimiter = sniff_delimiter(lines[0], path.suffix)
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    body = [r + [""] * (len(header) - len(r)) for r in rows[1:]]
    if not body:
        raise ValueError(f"{path.name} has a header but no rows")
    cells = {j: [r[j] for r in body] for j in range(len(header))}
    numeric: dict[int, list[float | None]] = {}
    reasons: dict[int, str] = {}
    for j, values in cells.items():
        try:
            numeric[j] = [_number(v) for v in values]
        except ValueError:
            bad = next(v for v in values if _is_text(v))
            reasons[j] = f"not numeric (e.g. {bad.strip()[:20]!r})"
    label_j = _label_column(header, cells, numeric, label)
    notes: list[str] = []
    columns, data, missing = [], [], []
    for j, name in enumerate(header):
        if j == label_j:
            continue
        if j in reasons:
            notes.append(f"column {name or '#' + str(j + 1)!r} ignored: {reasons[j]}")
            continue
        present = [v for v in numeric[j] if v is not None]
        if not present:
            notes.append(f"column {name!r} ignored: every value is missing")
            continue
        mean = float(np.mean(present))
        gaps = [v is None for v in numeric[j]]
        if any(gaps):
            notes.append(f"column {name!r}: {sum(gaps)} missing value(s) drawn as the column mean {mean:.4g}")
        columns.append(name or f"column {j + 1}")
        data.append([mean if v is None else v for v in numeric[j]])
        missing.append(gaps)
    if not columns:
        raise ValueError(f"{path.name} has no numeric column to draw faces from")
    labels = [r[label_j].strip() for r in body] if label_j is not None else [f"row {i + 1}" for i in range(len(body))]
    return DataTable(columns=columns, values=np.array(data).T, missing=np.array(missing).T, labels=labels,
                     label_column=header[label_j] if label_j is not None else None, notes=notes, source=str(path),
                     header=header)


def _is_text(value: str) -> bool:
    try:
        _number(value)
        return False
    except ValueError:
        return True


def _label_column(header: list[str], cells: dict[int, list[str]], numeric: dict[int, list], wanted: str | None
                  ) -> int | None:
    """The label column's index by the module's rules (None: rows are numbered)."""
    if wanted:
        lookup = {h.lower(): j for j, h in enumerate(header)}
        if wanted.strip().lower() not in lookup:
            raise ValueError(f"no column {wanted!r} for the labels; the columns are: {', '.join(header)}")
        return lookup[wanted.strip().lower()]
    if header and header[0] == "" and len(set(cells[0])) == len(cells[0]):
        return 0
    for j in range(len(header)):
        values = [v.strip() for v in cells[j]]
        if j not in numeric and len(set(values)) == len(values):
            return j
    return None
