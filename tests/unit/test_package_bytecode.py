"""infra.bytecode: the Lambda zips get bytecode that Python uses as it is, from a read-only copy."""

from __future__ import annotations

import importlib.util
import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.bytecode import add_bytecode

SOURCE = b'"""A module."""\n\nVALUE = 42\n'


def _package(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("pkg/__init__.py", b"")
        package.writestr("pkg/mod.py", SOURCE)
        package.writestr("pkg/data.json", b"{}")
        package.writestr("pkg/py2_only.py", b"print 'hello'\n")  # not Python 3: stays source only
    return path


def test_every_module_gets_hash_checked_bytecode_naming_its_lambda_path(tmp_path: Path) -> None:
    package = _package(tmp_path / "deployment.zip")
    assert add_bytecode(package, "/var/task") == 2
    with zipfile.ZipFile(package) as zipped:
        names = set(zipped.namelist())
        pyc = zipped.read(f"pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc")
        assert {"pkg/__init__.py", "pkg/mod.py", "pkg/data.json", "pkg/py2_only.py"} <= names
    assert not any("py2_only" in name and name.endswith(".pyc") for name in names)
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b11  # hash-based, checked against the source
    assert pyc[8:16] == importlib.util.source_hash(SOURCE)
    assert marshal.loads(pyc[16:]).co_filename == "/var/task/pkg/mod.py"  # noqa: S302 - compiled here


def test_python_imports_the_bytecode_from_a_read_only_copy(tmp_path: Path) -> None:
    package = _package(tmp_path / "layer-deployment.zip")
    add_bytecode(package, "/opt")
    unpacked = tmp_path / "opt"
    with zipfile.ZipFile(package) as zipped:
        zipped.extractall(unpacked)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(unpacked)}
    env.pop("PYTHONPYCACHEPREFIX", None)
    result = subprocess.run(
        [sys.executable, "-v", "-c", "import pkg.mod; print(pkg.mod.VALUE)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "42"
    assert f"pkg/__pycache__/mod.{sys.implementation.cache_tag}.pyc matches" in result.stderr
