"""The core never imports Qt: everything outside faceforge/gui must stay importable and usable headless."""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "faceforge"
QT = ("PySide6", "pyqtgraph", "PyQt5", "PyQt6", "shiboken6", "superqt")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_no_qt_imports_outside_gui():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "gui":
            continue
        for lineno, name in _imports(path):
            if name.split(".")[0] in QT:
                offenders.append(f"{rel}:{lineno} imports {name}")
    assert not offenders, "Qt imported outside faceforge/gui:\n" + "\n".join(offenders)


def test_core_modules_load_without_qt():
    """Import every core module in a fresh interpreter and check no Qt module got pulled in indirectly."""
    modules = sorted(
        "faceforge." + ".".join(p.relative_to(PKG).with_suffix("").parts)
        for p in PKG.rglob("*.py")
        if p.relative_to(PKG).parts[0] != "gui" and p.name not in ("__main__.py",)
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PKG.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"Qt modules loaded by the core: {out.stdout}"
