"""Attribute label files: CelebA's ``list_attr_celeba.txt`` and CSVs, read into one table and matched to images.

Label files come from many hands (Excel exports with ``;`` and BOMs, hand-edited CelebA files, 1/0 or 1/-1 or
probabilities), so parsing is tolerant about layout but strict about content: any row that does not fit stops with
a message naming the line, because a silently shifted column would train a model on the wrong attribute.
"""
from __future__ import annotations

import csv
import difflib
import io
import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from faceforge.data.sources import DatasetError, ImageRef

_EXAMPLES = 5


@dataclass
class LabelTable:
    names: list[str]
    filenames: list[str]
    values: np.ndarray  # float32 (n, A); binary attributes are +1/-1
    notes: list[str] = field(default_factory=list)  # oddities worth telling the user that did not stop reading

    def __len__(self) -> int:
        return len(self.filenames)


def _decode(raw: bytes, path: str) -> str:
    if not raw.strip():
        raise DatasetError(f"label file {path} is empty")
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            return raw.decode(encoding).lstrip("\ufeff")
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")  # never fails; right for the Western-European exports that are not UTF-8


def _number(token: str, line_no: int, attr: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise DatasetError(f"line {line_no}: value {token!r} for attribute {attr!r} is not a number") from None
    if not np.isfinite(value):
        raise DatasetError(f"line {line_no}: value {token!r} for attribute {attr!r} is not a finite number")
    return value


def _check_names(names: list[str], line_no: int) -> None:
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if not name:
            raise DatasetError(f"line {line_no}: attribute {i + 1} has no name")
        if name.lower() in seen:
            raise DatasetError(f"line {line_no}: attribute {name!r} appears twice in the header")
        seen[name.lower()] = i


def _build(names: list[str], rows: list[tuple[int, str, list[str]]]) -> LabelTable:
    if not rows:
        raise DatasetError("the label file has a header but no label rows")
    first_line: dict[str, int] = {}
    filenames = []
    for line_no, fname, tokens in rows:
        if len(tokens) != len(names):
            raise DatasetError(
                f"line {line_no}: expected {len(names) + 1} columns (file name + {len(names)} attributes), "
                f"found {len(tokens) + 1}"
            )
        key = fname.replace("\\", "/")
        if key in first_line:
            raise DatasetError(f"line {line_no}: {fname} is listed twice (first on line {first_line[key]})")
        first_line[key] = line_no
        filenames.append(key)
    try:  # numpy parses all values in C (CelebA's 200k x 40 in well under a second) ...
        values = np.array([tokens for _, _, tokens in rows]).astype(np.float32)
        if not np.isfinite(values).all():
            raise ValueError
    except ValueError:  # ... and only a failure pays for the slow pass that names the line
        values = np.array([[_number(t, no, names[c]) for c, t in enumerate(tokens)] for no, _, tokens in rows],
                          np.float32)
    return LabelTable(list(names), filenames, _normalise(values))


def _normalise(values: np.ndarray) -> np.ndarray:
    """Per column: 1/-1 stays, 1/0 becomes 1/-1 (so "absent" is always negative), anything else is kept."""
    out = values.copy()
    for c in range(values.shape[1]):
        col = values[:, c]
        seen = set(np.unique(col).tolist())
        if seen <= {0.0, 1.0} and 0.0 in seen:
            out[:, c] = np.where(col > 0.5, 1.0, -1.0)
    return out


def _parse_celeba(text: str) -> LabelTable:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DatasetError("the label file is empty")
    line_nos = None  # computed only when needed (messages); blank lines make them differ from list positions
    count = None
    first = lines[0].split()
    start = 0
    if len(first) == 1 and first[0].isdigit():
        count = int(first[0])
        start = 1
    if start >= len(lines):
        raise DatasetError("the label file has a row count but no header")
    names = lines[start].split()
    if sum(_is_number(t) for t in names) > len(names) // 2:
        raise DatasetError(f"line {_line_no(text, start)}: expected the attribute names, found numbers "
                           "(no header line?)")
    body = lines[start + 1:]
    if body and len(names) == len(body[0].split()):  # a leading "filename"/"image_id" token above the file names
        names = names[1:]
    _check_names(names, _line_no(text, start))
    table = _fast_celeba(names, body)
    if table is None:
        line_nos = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip()][start + 1:]
        table = _build(names, [(no, (toks := ln.split())[0] if ln.split() else "", toks[1:])
                               for no, ln in zip(line_nos, body)])
    if count is not None and count != len(table):
        table.notes.append(f"the label file says {count} rows but has {len(table)}")
    return table


def _line_no(text: str, index: int) -> int:
    """1-based line number of the ``index``-th non-blank line."""
    return [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip()][index]


def _fast_celeba(names: list[str], body: list[str]) -> LabelTable | None:
    """One C-level split and one numpy conversion for the whole file (full CelebA: 200k rows in ~1 s instead of
    ~5 s). Returns None whenever anything looks off, so the careful per-line parser can name the bad line."""
    width = len(names) + 1
    tokens = " ".join(body).split()
    if not body or len(tokens) != width * len(body):
        return None
    grid = np.array(tokens, dtype=object).reshape(len(body), width)
    filenames = [f.replace("\\", "/") for f in grid[:, 0].tolist()]
    if len(set(filenames)) != len(filenames) or any(_is_number(f) for f in filenames[:: max(1, len(body) // 50)]):
        return None
    try:
        values = grid[:, 1:].astype(np.float32)
    except ValueError:
        return None
    if not np.isfinite(values).all():
        return None
    # Equal totals could still hide one short and one long line; a shifted row puts a file name among the values
    # (caught above) or a number among the file names.
    if any(_is_number(f) for f in filenames):
        return None
    return LabelTable(list(names), filenames, _normalise(values))


def _sniff_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)  # type: ignore[arg-type]
    return best if counts[best] else ","


def _parse_csv(text: str) -> LabelTable:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delim = _sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows = [(reader.line_num, [c.strip() for c in row]) for row in reader if any(c.strip() for c in row)]
    if not rows:
        raise DatasetError("the label file is empty")
    header_no, header = rows[0]
    names = header[1:]
    if not names:
        raise DatasetError(f"line {header_no}: the header needs a file name column and at least one attribute")
    if all(_is_number(c) for c in names):
        raise DatasetError(f"line {header_no}: a CSV label file needs a header row: filename,attribute1,...")
    _check_names(names, header_no)
    decimal_comma = delim == ";"  # European exports write 0,5
    body = []
    for line_no, row in rows[1:]:
        tokens = [t.replace(",", ".") for t in row[1:]] if decimal_comma else row[1:]
        body.append((line_no, row[0], tokens))
    return _build(names, body)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_labels(path: str | os.PathLike) -> LabelTable:
    """Read a CelebA-style attribute list or a CSV (``filename,attr1,...``; ``,`` ``;`` or tab separated)."""
    path = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"label file {path} does not exist") from None
    except OSError as exc:
        raise DatasetError(f"cannot read label file {path}: {exc.strerror or exc}") from None
    text = _decode(raw, path)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    is_csv = path.lower().endswith(".csv") or "," in first or ";" in first
    try:
        table = _parse_csv(text) if is_csv else _parse_celeba(text)
    except DatasetError as exc:
        if not _looks_like_labels(text, _sniff_delimiter(first) if is_csv else None):
            raise DatasetError(f"{path} is not a CelebA attribute file or a CSV of labels. A labels file has a line "
                               "of attribute names, then one line per image: its file name and a number per "
                               "attribute (000001.jpg 1 -1 …, or filename,Smiling,Age then a.jpg,1,38)") from None
        raise DatasetError(f"{path}: {exc}") from None
    return table


def _looks_like_labels(text: str, delimiter: str | None) -> bool:
    """Whether a file that failed to parse was meant as a label file (then the parser's message, naming the line,
    helps) or is something else - notes, a README, an image picked by mistake - where it would only puzzle. A
    label row is a name then mostly numbers; one such row among the first few is enough."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and lines[0].strip().isdigit():
        lines = lines[1:]
    body = lines[1:6]
    if not body:  # nothing to judge by: the parser's own message (empty, header only) says what is missing
        return True

    def label_like(line: str) -> bool:
        tokens = [t.strip().strip('"') for t in (line.split(delimiter) if delimiter else line.split())][1:]
        numbers = sum(_is_number(t.replace(",", ".")) for t in tokens)
        return bool(tokens) and 2 * numbers >= len(tokens)

    return any(label_like(ln) for ln in body)


# --------------------------------------------------------------------------------------------------------------
# Finding a dataset's label file

#: names a label file goes by beside its images, most specific first (CelebA's own, Kaggle's CSV copy of it, ours)
LABEL_FILE_NAMES = ("list_attr_celeba.txt", "list_attr_celeba.csv", "labels.csv", "attributes.csv", "attr.csv")


def find_label_file(source: str | os.PathLike) -> Path | None:
    """The label file that belongs to an image folder or zip, if one sits where people put it: in the folder,
    beside the zip, or up to two folders up, also in an ``Anno`` folder there (CelebA's ``Img/img_align_celeba``
    + ``Anno/list_attr_celeba.txt``; Kaggle's ``img_align_celeba/img_align_celeba`` + ``list_attr_celeba.csv``)."""
    path = Path(os.path.abspath(os.path.expanduser(os.fspath(source))))
    start = path.parent if path.suffix.lower() == ".zip" else path
    places = []
    for folder in (start, start.parent, start.parent.parent):
        places += [folder, folder / "Anno", folder / "anno"]
    for name in LABEL_FILE_NAMES:
        for folder in places:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


# --------------------------------------------------------------------------------------------------------------
# Choosing attributes


def resolve_attributes(wanted: Sequence[str], available: Sequence[str]) -> list[str]:
    """Map the user's attribute names (case-insensitive; ``["*"]`` = all) to the available spelling, in order."""
    wanted = list(wanted)
    if wanted == ["*"]:
        return list(available)
    by_lower = {a.lower(): a for a in available}
    out: list[str] = []
    for name in wanted:
        hit = by_lower.get(name.strip().lower())
        if hit is None:
            close = difflib.get_close_matches(name.strip().lower(), list(by_lower), n=3, cutoff=0.6)
            hint = f" (did you mean {' or '.join(repr(by_lower[c]) for c in close)}?)" if close else ""
            raise DatasetError(f"unknown attribute {name!r}{hint}. Available: {', '.join(available)}")
        if hit in out:
            raise DatasetError(f"attribute {hit!r} is selected twice")
        out.append(hit)
    return out


def select_attributes(table: LabelTable, wanted: Sequence[str]) -> tuple[list[str], np.ndarray]:
    names = resolve_attributes(wanted, table.names)
    cols = [table.names.index(n) for n in names]
    return names, table.values[:, cols]


# --------------------------------------------------------------------------------------------------------------
# Matching label rows to images


@dataclass
class MatchReport:
    n_images: int
    n_rows: int
    n_matched: int
    images_without_label: list[str] = field(default_factory=list)
    rows_without_image: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        out = []
        if self.images_without_label:
            out.append(
                f"{len(self.images_without_label)} of {self.n_images} images have no label row and are left out: "
                + _examples(self.images_without_label)
            )
        if self.rows_without_image:
            out.append(
                f"{len(self.rows_without_image)} of {self.n_rows} label rows have no image: "
                + _examples(self.rows_without_image)
            )
        return out


def _examples(names: list[str]) -> str:
    more = len(names) - _EXAMPLES
    return ", ".join(names[:_EXAMPLES]) + (f", ... ({more} more)" if more > 0 else "")


def _key(name: str) -> str:
    name = name.replace("\\", "/").strip()
    while name.startswith("./"):
        name = name[2:]
    return name.casefold()


def match_labels(refs: Sequence[ImageRef], table: LabelTable) -> tuple[np.ndarray, np.ndarray, MatchReport]:
    """Pair images with label rows by file name: the full relative path first, then the bare file name (CelebA
    lists bare names while images often sit in a sub-folder), then the name without extension, each only where it
    is unambiguous. Case-insensitive, since Windows and macOS users do not see case.

    Returns (indices into ``refs``, label rows for them, report). Raises :class:`DatasetError` when nothing matches.
    """
    n_img, n_row = len(refs), len(table)
    row_of_img = np.full(n_img, -1, np.int64)
    used = np.zeros(n_row, bool)
    img_keys = [_key(r.name) for r in refs]
    row_keys = [_key(f) for f in table.filenames]
    for simplify in (lambda k: k, posixpath.basename, lambda k: posixpath.splitext(posixpath.basename(k))[0]):
        rows_by: dict[str, list[int]] = defaultdict(list)
        for j, k in enumerate(row_keys):
            if not used[j]:
                rows_by[simplify(k)].append(j)
        imgs_by: dict[str, list[int]] = defaultdict(list)
        for i, k in enumerate(img_keys):
            if row_of_img[i] < 0:
                imgs_by[simplify(k)].append(i)
        for k, imgs in imgs_by.items():
            rows = rows_by.get(k)
            if rows and len(rows) == 1 and len(imgs) == 1:
                row_of_img[imgs[0]] = rows[0]
                used[rows[0]] = True
    idx = np.flatnonzero(row_of_img >= 0)
    report = MatchReport(
        n_images=n_img,
        n_rows=n_row,
        n_matched=len(idx),
        images_without_label=[refs[i].name for i in np.flatnonzero(row_of_img < 0)],
        rows_without_image=[table.filenames[j] for j in np.flatnonzero(~used)],
    )
    if len(idx) == 0:
        raise DatasetError(
            f"none of the {n_row} label rows match any of the {n_img} images. "
            f"Label rows name files like {_examples(table.filenames[:3])}; "
            f"the images are named like {_examples([r.name for r in refs[:3]])}"
        )
    return idx, table.values[row_of_img[idx]], report
