"""infra/bytecode.py: the Lambda zip's .pyc come from the runtime's Python, beside their sources."""

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.bytecode import check_interpreter, lambda_python

PROJECT = Path(__file__).resolve().parents[2]
_BUILD = (
    "import sys; from pathlib import Path; from infra.bytecode import add_bytecode;"
    "print(*add_bytecode(Path(sys.argv[1])))"
)


def _build(package: Path) -> str:
    """One build in a fresh interpreter, as `make package` runs it (marshal's output depends on what
    else the compiling process holds: one build per process)."""
    built = subprocess.run(
        [sys.executable, "-c", _BUILD, str(package)], cwd=PROJECT, check=True, capture_output=True, text=True
    )
    return built.stdout.strip()


def test_a_build_interpreter_of_another_python_than_the_runtime_is_refused(tmp_path):
    template = tmp_path / "sam.yaml"
    template.write_text(
        "A:\n  Properties:\n    Runtime: python3.99\nB:\n  Properties:\n    Runtime: python3.99\n"
    )
    runtime = lambda_python(template)
    assert runtime == (3, 99)
    with pytest.raises(SystemExit, match=r"runtime is python3\.99 .* Build with python3\.99"):
        check_interpreter(runtime)
    check_interpreter(sys.version_info[:2])


def test_each_source_gets_an_unchecked_hash_pyc_and_the_zip_is_the_same_at_each_build(tmp_path):
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("pkg/mod.py", "VALUE = 1\n")
        archive.writestr("top.py", "import pkg.mod\n")
        archive.writestr("pkg/__pycache__/mod.cpython-311.pyc", b"stale")
        archive.writestr("examples/py2.py", "print 'hello'\n")
        archive.writestr("pkg/data.tsv", "a\tb\n")
    assert _build(package) == "2 ['examples/py2.py']"
    first = package.read_bytes()
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(package) as archive:
        assert archive.namelist() == sorted(
            [
                "examples/py2.py",
                "pkg/data.tsv",
                "pkg/mod.py",
                f"pkg/__pycache__/mod.{tag}.pyc",
                "top.py",
                f"__pycache__/top.{tag}.pyc",
            ]
        )
        header = archive.read(f"pkg/__pycache__/mod.{tag}.pyc")[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert header[4:8] == b"\x01\x00\x00\x00"  # hash-based, unchecked
    assert header[8:] == importlib.util.source_hash(b"VALUE = 1\n")
    assert _build(package) == "2 ['examples/py2.py']"  # again, from what the first build wrote
    assert package.read_bytes() == first
