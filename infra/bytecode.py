"""Add compiled bytecode to the Lambda packages `chalice package` writes: `python -m infra.bytecode DIR`.

`chalice package` zips sources only. Lambda's code directories (/var/task, /opt) are read-only, so
Python cannot keep what it compiles: without bytecode in the zips every cold start compiles every
module it imports, about 1.1 s of a ~1.6 s `import app` (bench/cold_start.py).

The bytecode is compiled by this interpreter, whose version is the functions' runtime (Chalice
takes the runtime from the packaging interpreter), into ``__pycache__`` next to each source, as
Python looks for it. It is checked by a hash of the source rather than by its modification time,
which a zip keeps only to two seconds: an edited source is recompiled, never run stale. Tracebacks
name the files where Lambda unpacks them (/var/task for the function, /opt for the layer).
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

# Where Lambda unpacks each zip `chalice package` writes.
PACKAGES = {"deployment.zip": "/var/task", "layer-deployment.zip": "/opt"}


def add_bytecode(package: Path, unpacked_at: str) -> int:
    """Add a ``.pyc`` for every ``.py`` in the zip ``package`` (in place); returns how many."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "src"
        with zipfile.ZipFile(package) as source:
            entries = source.infolist()
            for info in entries:
                if info.filename.endswith(".py"):
                    source.extract(info, root)
        # Into __pycache__ next to each source, even where PYTHONPYCACHEPREFIX moves this process's own.
        prefix, sys.pycache_prefix = sys.pycache_prefix, None
        try:
            compileall.compile_dir(
                root,
                quiet=2,  # some packages ship files for other Python versions: those stay source-only
                stripdir=str(root),
                prependdir=unpacked_at,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
        finally:
            sys.pycache_prefix = prefix
        compiled = sorted(p for p in root.rglob("*.pyc") if p.parent.name == "__pycache__")
        rebuilt = Path(tmp) / "rebuilt.zip"
        with zipfile.ZipFile(package) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            known = {info.filename for info in entries}
            for info in entries:
                target.writestr(info, source.read(info))
            for pyc in compiled:
                name = pyc.relative_to(root).as_posix()
                if name in known:
                    continue
                entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(entry, pyc.read_bytes())
        shutil.move(rebuilt, package)
        return len(compiled)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the output directory of `chalice package`")
    args = parser.parse_args(argv)
    for name, unpacked_at in PACKAGES.items():
        package = args.directory / name
        if package.exists():
            print(f"{package}: {add_bytecode(package, unpacked_at)} modules compiled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
