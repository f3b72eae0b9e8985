"""Bytecode in the Lambda zip: `python -m infra.bytecode out/deployment.zip out/sam.yaml` (`make package`).

`chalice package` zips sources only, so a cold start compiles every module it imports (ours and
requirements.txt's), and the function's code is read-only: nothing is cached for the next one. This
adds a ``__pycache__/<name>.cpython-3XX.pyc`` beside every ``.py`` of the zip, compiled by this
interpreter, which must be the Lambda runtime's CPython minor version (the template's Runtime: a
.pyc of another minor version is ignored). The .pyc are unchecked-hash (PEP 552): loaded as they
are, without reading the source's mtime (zip timestamps are fixed) or hashing it. The zip is rewritten
deterministically: entries sorted by name, every timestamp 1980-01-01, deflated.
"""

from __future__ import annotations

import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path

ZIPPED_LIMIT = 50 * 1024 * 1024  # a direct upload; through S3 (CloudFormation) only the unzipped limit
UNZIPPED_LIMIT = 250 * 1024 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
RUNTIME = re.compile(r"^\s*Runtime:\s*['\"]?python(\d+)\.(\d+)", re.MULTILINE)


def lambda_python(template: Path) -> tuple[int, int]:
    """The one Python version every function of the packaged template runs (its ``Runtime``)."""
    versions = {(int(major), int(minor)) for major, minor in RUNTIME.findall(template.read_text())}
    if len(versions) != 1:
        raise SystemExit(
            f"{template}: expected one python runtime for every function, found {sorted(versions)}"
        )
    return versions.pop()


def check_interpreter(runtime: tuple[int, int]) -> None:
    built_by = sys.version_info[:2]
    if sys.implementation.name != "cpython" or built_by != runtime:
        wanted = "python{}.{}".format(*runtime)
        raise SystemExit(
            f"infra.bytecode: the Lambda runtime is {wanted} but this interpreter is "
            f"{sys.implementation.name} {built_by[0]}.{built_by[1]}; bytecode is specific to a CPython "
            f"minor version. Build with {wanted} (make clean venv PYTHON={wanted})"
        )


def pyc_name(source: str) -> str:
    """Where the import system looks for ``source``'s bytecode (relative, in the zip)."""
    folder, _, name = source.rpartition("/")
    cached = f"__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc"
    return f"{folder}/{cached}" if folder else cached


def _size(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return f"{path.stat().st_size / 2**20:.1f} MB zipped, {unzipped / 2**20:.1f} MB unzipped"


def add_bytecode(zip_path: Path) -> tuple[int, list[str]]:
    """Rewrite ``zip_path`` with an unchecked-hash .pyc beside each .py.

    Returns the number of .pyc and the sources that do not compile."""
    entries: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    failed: list[str] = []
    with zipfile.ZipFile(zip_path) as archive, tempfile.TemporaryDirectory(prefix="vigil-pyc-") as tmp:
        for info in archive.infolist():
            if info.is_dir() or "/__pycache__/" in f"/{info.filename}" or info.filename.endswith(".pyc"):
                continue  # rebuilt below: a stale .pyc must not ship
            entries[info.filename] = archive.read(info)
            modes[info.filename] = info.external_attr
        for name in [name for name in entries if name.endswith(".py")]:
            source = Path(tmp, name)
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(entries[name])
            compiled = Path(tmp, pyc_name(name))
            try:
                py_compile.compile(
                    str(source),
                    cfile=str(compiled),
                    dfile=name,  # the path in tracebacks is corrected at import; this keeps builds identical
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
            except py_compile.PyCompileError:
                failed.append(name)  # never importable on this runtime either (e.g. Python 2 examples)
                continue
            entries[pyc_name(name)] = compiled.read_bytes()
    rewritten = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(rewritten, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = modes.get(name, FILE_MODE)  # Chalice's modes kept (shared objects...)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    rewritten.replace(zip_path)
    return sum(1 for name in entries if name.endswith(".pyc")), failed


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m infra.bytecode out/deployment.zip out/sam.yaml")
    zip_path, template = Path(args[0]), Path(args[1])
    check_interpreter(lambda_python(template))
    before = _size(zip_path)
    compiled, failed = add_bytecode(zip_path)
    print(f"bytecode: {compiled} unchecked-hash .pyc ({sys.implementation.cache_tag}) added to {zip_path}")
    print(f"  before: {before}")
    print(f"  after:  {_size(zip_path)} (Lambda's limits: 50 MB zipped, 250 MB unzipped)")
    if failed:
        print(
            f"  {len(failed)} sources do not compile on this Python (never importable): {', '.join(failed)}"
        )
    with zipfile.ZipFile(zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    if unzipped > UNZIPPED_LIMIT:
        raise SystemExit(f"{zip_path} unzips to {unzipped / 2**20:.1f} MB: over Lambda's 250 MB")
    if zip_path.stat().st_size > ZIPPED_LIMIT:
        print("  warning: over 50 MB zipped; deploy through S3 (CloudFormation), not a direct upload")


if __name__ == "__main__":
    main()
