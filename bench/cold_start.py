"""Cold start: each Lambda function's handler module imported in a fresh interpreter, as the zip ships.

`make package` builds the Lambda zip with `chalice package` and adds an unchecked-hash .pyc beside
every source (infra/bytecode.py); a function's code is read-only, so what has no .pyc is compiled at
every cold start. Here the zip is built the same way into a temporary directory and extracted, and
each handler module is imported from it by a new interpreter with ``-S -B`` (only the zip's packages,
nothing written) and PYTHONDONTWRITEBYTECODE=1, RUNS times: "as deployed", the target's figure. For
reference, the same zip without its .pyc (what Lambda compiled before), and app.py and chalicelib/
copied without ``__pycache__`` with the venv's installed packages (their .pyc kept), without and with
our .pyc (the figures before the zip had bytecode). The median wall time and CPU time of each import
are printed, and judged on CPU time (the same on an idle machine; other processes inflate wall time
only). The handler of each function is the one `chalice package` writes into out/sam.yaml: Chalice's
(app.<name> for the API and the WebSocket handlers, the blueprint's module for the others) unless
infra/template.yaml overrides it. `python -m bench.cold_start --profile MODULE` prints the packages
that cost the most in that module's import from the zip (``python -X importtime``).
"""

from __future__ import annotations

import compileall
import importlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import row
from infra.bytecode import add_bytecode

PROJECT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT / "infra" / "template.yaml"
TARGET_MS = 250.0
RUNS = 7
_TIMER = """
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
import importlib
importlib.import_module(sys.argv[1])
print((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000)
"""


def lambda_environment() -> dict[str, str]:
    """What a deployed function's environment holds at import (prod stage, no endpoint override)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIGIL_", "PYTHON"))}
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "cold-start",
            "AWS_SECRET_ACCESS_KEY": "cold-start",
            "VIGIL_STAGE": "prod",
            "VIGIL_NAME_PREFIX": "vigil-prod-",
            "VIGIL_WEBSOCKET_API_ID": "abcdef1234",
            "VIGIL_LOG_LEVEL": "INFO",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _template_handlers() -> dict[str, str]:
    """Handler overrides that infra/template.yaml merges into Chalice's functions."""
    import yaml

    resources = yaml.safe_load(TEMPLATE.read_text())["Resources"]
    return {
        name: resource["Properties"]["Handler"]
        for name, resource in resources.items()
        if isinstance((resource or {}).get("Properties"), dict) and "Handler" in resource["Properties"]
    }


def lambda_handlers() -> dict[str, str]:
    """Each Lambda function of the packaged stack (its CloudFormation name) -> its Handler."""
    from chalice.utils import to_cfn_resource_name

    sys.path.insert(0, str(PROJECT))
    app = importlib.import_module("app").app
    handlers = {"APIHandler": "app.app"}
    for source in app.event_sources:
        handlers[to_cfn_resource_name(source.name)] = source.handler_string
    for config in app.websocket_handlers.values():
        handlers[to_cfn_resource_name(config.name)] = config.handler_string
    overrides = _template_handlers()
    return {name: overrides.get(name, handler) for name, handler in sorted(handlers.items())}


def handler_modules() -> dict[str, list[str]]:
    """Each handler module -> the functions whose Handler is in it."""
    modules: dict[str, list[str]] = defaultdict(list)
    for function, handler in lambda_handlers().items():
        modules[handler.rpartition(".")[0]].append(function)
    return dict(modules)


def copy_of_the_package(into: Path) -> Path:
    """app.py and chalicelib/ as the Lambda zip has them: sources only."""
    shutil.copy2(PROJECT / "app.py", into / "app.py")
    shutil.copytree(PROJECT / "chalicelib", into / "chalicelib", ignore=shutil.ignore_patterns("__pycache__"))
    return into


AS_DEPLOYED = ("-S", "-B")  # the zip's packages only (and the standard library), no bytecode written


def the_lambda_zip(into: Path) -> tuple[Path, Path]:
    """`make package`'s zip extracted into ``into``: (without its .pyc, as Chalice built it; as deployed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    chalice = Path(sys.executable).parent / "chalice"
    out = into / "out"
    command = [
        str(chalice),
        "package",
        "--stage",
        "prod",
        "--merge-template",
        "infra/template.yaml",
        str(out),
    ]
    subprocess.run(command, cwd=PROJECT, env=env, check=True, capture_output=True)
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(into / "chalice")
    add_bytecode(out / "deployment.zip")
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(into / "deployed")
    return into / "chalice", into / "deployed"


def time_import(
    module: str, package: Path, runs: int = RUNS, flags: tuple[str, ...] = ()
) -> tuple[float, float]:
    """Median milliseconds (wall, CPU) to import ``module`` from ``package`` in a fresh interpreter."""
    env = lambda_environment() | {"PYTHONPATH": str(package)}
    walls, cpus = [], []
    for _ in range(runs):
        timed = subprocess.run(
            [sys.executable, *flags, "-c", _TIMER, module],
            cwd=package,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall, cpu = map(float, timed.stdout.split())
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def costliest_packages(
    module: str, package: Path, top: int = 12, flags: tuple[str, ...] = AS_DEPLOYED
) -> list[tuple[str, float]]:
    """The packages (our chalicelib's by sub-package) whose own import time is largest, in ms."""
    env = lambda_environment() | {"PYTHONPATH": str(package)}
    traced = subprocess.run(
        [sys.executable, *flags, "-X", "importtime", "-c", f"import {module}"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    costs: Counter[str] = Counter()
    for line in traced.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue
        name = fields[2].strip()
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "chalicelib" else parts[0]
        costs[key] += int(fields[0]) / 1000
    return costs.most_common(top)


SHARED_LIBRARIES = "import boto3, chalice.app, pynamodb.models\nfrom aws_lambda_powertools import Logger\n"


def _ms(figure: tuple[float, float]) -> str:
    return "{:.0f} / {:.0f}".format(*figure)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = sys.argv[1:] if argv is None else argv
    runs = 3 if "quick" in args else RUNS
    with tempfile.TemporaryDirectory(prefix="vigil-cold-") as tmp:
        chalice_zip, deployed = the_lambda_zip(Path(tmp))
        if "--profile" in args:
            module = args[args.index("--profile") + 1]
            for name, ms in costliest_packages(module, deployed):
                print(f"  {name:<40} {ms:8.1f} ms")
            return {}
        package = Path(tmp, "source")
        package.mkdir()
        copy_of_the_package(package)
        for tree in (chalice_zip, deployed, package):
            (tree / "shared_libraries.py").write_text(SHARED_LIBRARIES)
        load = os.getloadavg()[0]
        print(f"each handler module imported by a fresh interpreter, median of {runs} runs (load {load:.1f})")
        print("  as deployed: `make package`'s zip (unchecked-hash .pyc beside every source) extracted,")
        print("  imported with -S -B; for reference: that zip without its .pyc (Lambda compiled every module")
        print(
            "  before), and app.py and chalicelib/ without and with our .pyc, the venv's packages with theirs"
        )
        print("  wall / CPU ms: equal on an idle machine (an import is one busy thread); the target is read")
        print("  on CPU time, which other processes do not inflate")
        print(
            row(
                "handler module (functions)",
                "as deployed",
                f"target ≤ {TARGET_MS:.0f}",
                "zip, no .pyc | ours",
            )
        )
        modules = [
            *sorted(handler_modules().items()),
            ("shared_libraries", ["boto3, chalice, pynamodb, Logger"]),
        ]
        ours = {module: time_import(module, package, runs) for module, _ in modules}
        compileall.compile_dir(package, quiet=1)
        ours_compiled = {module: time_import(module, package, runs) for module, _ in modules}
        figures: dict[str, Any] = {}
        for module, functions in modules:
            without = time_import(module, chalice_zip, runs, AS_DEPLOYED)
            wall, cpu = figures[module] = time_import(module, deployed, runs, AS_DEPLOYED)
            verdict = "met" if cpu <= TARGET_MS else f"missed by {cpu - TARGET_MS:.0f} ms"
            label = module
            if module == "shared_libraries":
                label, verdict = "shared libraries alone", ""
            reference = f"{_ms(without)} | {_ms(ours[module])}, .pyc {_ms(ours_compiled[module])}"
            print(row(label, f"{wall:.0f} / {cpu:.0f}", verdict, reference))
            print(f"    {', '.join(functions)}")
        figures.pop("shared_libraries")
        load = os.getloadavg()[0]
        print(f"  load at the end {load:.1f}: on a busy machine, CPU time is the steadier figure")
        for module, (_, cpu) in figures.items():
            if cpu > TARGET_MS:
                print(
                    f"  where {module}'s import goes as deployed (python -X importtime, own time by package):"
                )
                for name, ms in costliest_packages(module, deployed, top=8):
                    print(f"    {name:<40} {ms:8.1f} ms")
    return {module: cpu for module, (_, cpu) in figures.items()}


if __name__ == "__main__":
    main()
