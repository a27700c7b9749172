"""The layer rule (docs/ARCHITECTURE.md): gui and cli -> chernoff -> directions -> editing/training -> models/data -> base, nothing upward
or sideways, and nothing outside faceforge/gui imports Qt."""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "faceforge"
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6", "superqt")

# layer -> the layers it may import (besides itself)
ALLOWED = {
    "base": set(),
    "models": {"base"},
    "data": {"base"},
    "training": {"models", "data", "base"},
    "editing": {"models", "data", "base"},
    "directions": {"editing", "models", "data", "base"},
    "chernoff": {"directions", "editing", "models", "data", "base"},
    "gui": {"training", "editing", "directions", "chernoff", "models", "data", "base"},
    "app": {"training", "editing", "directions", "chernoff", "models", "data", "base"},
}
LAUNCHER = "faceforge.gui.app"  # the one gui module the command line may import: it opens the window


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("cli", "__main__"):
        return "app" if len(parts) > 1 else "base"
    return parts[1] if parts[1] in ALLOWED else "base"


def _module_name(root: Path, path: Path) -> str:
    parts = (root.name, *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def _imports(path: Path, module: str):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module


def layer_violations(root: Path) -> list[str]:
    """Every import in the package at ``root`` that goes upward or sideways in the layer rule."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(root, path)
        src = layer_of(module)
        for lineno, name in _imports(path, module):
            if name.split(".")[0] != root.name:
                continue
            dst = layer_of(name)
            if dst == src or dst in ALLOWED[src] or (src == "app" and name == LAUNCHER):
                continue
            bad.append(f"{path.relative_to(root.parent)}:{lineno}: {src} imports {dst} ({name})")
    return bad


def test_imports_follow_the_layer_rule():
    bad = layer_violations(PKG)
    assert not bad, "imports against the layer rule:\n" + "\n".join(bad)


def test_the_layer_check_catches_upward_and_sideways_imports(tmp_path):
    pkg = tmp_path / "faceforge"
    for rel, text in {
        "__init__.py": "",
        "config.py": "import json\n",
        "models/__init__.py": "from faceforge.config import json\n",
        "data/__init__.py": "from faceforge.models import x\n",  # sideways
        "training/loop.py": "from faceforge.data import y\n",  # allowed: downward
        "runs.py": "from faceforge.training import loop\n",  # upward from base
        "editing/edits.py": "from ..training import loop\n",  # sideways, relative
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    bad = layer_violations(pkg)
    assert len(bad) == 3, bad
    assert any("data/__init__.py" in b and "imports models" in b for b in bad)
    assert any("runs.py" in b and "base imports training" in b for b in bad)
    assert any("editing/edits.py" in b and "imports training" in b for b in bad)


def test_no_qt_imports_outside_gui():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "gui":
            continue
        for lineno, name in _imports(path, _module_name(PKG, path)):
            if name.split(".")[0] in QT:
                offenders.append(f"{rel}:{lineno} imports {name}")
    assert not offenders, "Qt imported outside faceforge/gui:\n" + "\n".join(offenders)


def test_core_modules_load_without_qt():
    """Import every core module in a fresh interpreter and check no Qt module got pulled in indirectly."""
    modules = sorted(
        _module_name(PKG, p) for p in PKG.rglob("*.py")
        if p.relative_to(PKG).parts[0] != "gui" and p.name not in ("__main__.py",)
    )
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt modules loaded by the core: {out.stdout}"


def test_the_window_opens_without_importing_torch():
    """torch takes 1.5 s to import on a laptop: the window is shown first and torch loads after the first paint
    (MainWindow's warm-up), so nothing the window imports at start may pull it in."""
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "import faceforge.gui.main_window\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))[:3])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", f"the window's imports load torch: {out.stdout}"
