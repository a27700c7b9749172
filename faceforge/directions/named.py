"""Components a person has looked at and named: an unsupervised component (SeFa, GANSpace) saved under a name of
the user's choosing in ``RUN/directions/named.json`` (+ ``.npy``, through :mod:`.store`), so it becomes a slider
like any fitted direction and ``--set dir:NAME=amount`` works with it.

The component keeps its spread (amounts stay in the same units as on its strip) and records where it came from:
the method, its file, the component's name and index, and the checkpoint step, so the name can be traced back.
Naming a second component with a name already in the file replaces that entry.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from faceforge.directions.store import DirectionSet, directions_dir, load_directions

NAMED_FILE = "named"


def check_name(name: str) -> str:
    """A direction name people can type in ``--set dir:NAME=1``: letters, digits, spaces, '-', '_', '.'."""
    text = str(name).strip()
    if not re.fullmatch(r"[\w][\w .-]*", text) or text.lower().startswith("dir:"):
        raise ValueError(f"a direction name is letters, digits, spaces, '-', '_' and '.', not {name!r}")
    return text


def name_component(run_dir: Path, source: DirectionSet, component: str, name: str, *, sign: float = 1.0,
                   file: str = NAMED_FILE) -> Path:
    """Save ``source``'s ``component`` as direction ``name`` in ``RUN/directions/FILE.json`` (made, or added to;
    a name already there is replaced). ``sign`` -1 names the opposite way (the strip's left end). Returns the
    JSON path. A file for another latent space or size is refused rather than mixed."""
    key = source.lookup(component)
    if key is None:
        raise ValueError(f"no component {component!r}; this set has: {', '.join(source.names)}")
    label = check_name(name)
    sign = -1.0 if sign < 0 else 1.0
    folder = directions_dir(run_dir)
    path = folder / f"{file}.json"
    names, normals, fits, meta = [], [], {}, {"method": "named", "note": "components named by a person"}
    if path.is_file():
        old = load_directions(path)
        if old.space != source.space or old.dim != source.dim:
            raise ValueError(f"{path.name} holds {old.space} directions of {old.dim} dimensions, not "
                             f"{source.space} of {source.dim}: choose another file")
        names, normals, fits, meta = list(old.names), list(old.normals), dict(old.fits), dict(old.meta)
    fit = dict(source.fits[key])
    fit.update({"kind": "unsupervised", "intercept": sign * float(fit.get("intercept", 0.0)),
                "source": {"method": source.meta.get("method", "unsupervised"), "file": source.name or None,
                           "component": key, "index": source.names.index(key), "sign": sign,
                           "checkpoint_step": source.meta.get("checkpoint_step")}})
    normal = sign * source.normal(key)
    if label in names:
        i = names.index(label)
        normals[i], fits[label] = normal, fit
    else:
        names.append(label)
        normals.append(normal)
        fits[label] = fit
    return DirectionSet(space=source.space, names=names, normals=np.stack(normals), fits=fits,
                        meta=meta).save(folder, file)
