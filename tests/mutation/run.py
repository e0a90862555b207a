"""`make mutation`: mutation-test the guarded modules one at a time with mutmut.

For each module in `modules.toml` a work directory `.mutation/<name>/` links the project's `app/`,
`tests/` and `migrations/` and gets a `pyproject.toml` whose `[tool.mutmut]` mutates only that
module and runs only its focused tests. mutmut keeps its results there, so a second run re-tests
only what changed. The report counts per module: killed (including timeouts), equivalent (named
in `equivalent.txt`) and survived (anything else: a missing test). Survivors of an earlier run
are always re-tested, since mutmut only invalidates a verdict when the source changes. Exit
status 1 if any mutant survived unexplained, or an `equivalent.txt` entry no longer names a
surviving mutant.

    python -m tests.mutation.run                  # every module
    python -m tests.mutation.run outbound crypto  # some of them
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORK = ROOT / ".mutation"
LINKED = ("app", "tests", "migrations")
KILLED = {"killed", "timeout", "caught by type check"}
_RESULT_LINE = re.compile(r"^\s+(\S+): (.+)$")


@dataclass(frozen=True)
class Module:
    name: str
    path: str
    tests: list[str]
    pytest_args: list[str]


@dataclass
class Outcome:
    module: Module
    killed: int
    equivalent: list[str]
    survived: list[tuple[str, str]]
    stale: list[str]
    seconds: float


def load_modules() -> list[Module]:
    table = tomllib.loads((HERE / "modules.toml").read_text())
    return [
        Module(name, spec["module"], spec["tests"], spec.get("pytest_args", []))
        for name, spec in table.items()
    ]


def load_equivalents() -> dict[str, str]:
    """Mutant name -> reason, from `equivalent.txt`."""
    equivalents: dict[str, str] = {}
    for line in (HERE / "equivalent.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"equivalent.txt: {name} has no reason")
        equivalents[name] = reason.strip()
    return equivalents


def mutmut_table(module: Module) -> str:
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    return (
        "[tool.mutmut]\n"
        'source_paths = ["app"]\n'
        f'only_mutate = ["{module.path}"]\n'
        'also_copy = ["migrations"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(module.tests)}\n"
        f"pytest_add_cli_args = {toml_list(module.pytest_args)}\n"
    )


def prepare(module: Module) -> Path:
    work = WORK / module.name
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = work / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name, target_is_directory=True)
    project = (ROOT / "pyproject.toml").read_text()
    project = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", project)
    config = work / "pyproject.toml"
    text = project.rstrip() + "\n\n" + mutmut_table(module)
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    # The mutated copy is rebuilt from the linked sources when they are newer; a changed test
    # file must be copied again too, so the copy of tests/ is always refreshed.
    shutil.rmtree(work / "mutants" / "tests", ignore_errors=True)
    return work


def results(work: Path, mutmut: str) -> dict[str, str]:
    out = subprocess.run(  # noqa: S603 - our own mutmut, fixed arguments
        [mutmut, "results", "--all", "true"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        match = _RESULT_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def run_module(module: Module, equivalents: dict[str, str], max_children: int) -> Outcome:
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    work = prepare(module)
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(  # noqa: S603 - our own mutmut, fixed arguments
        [mutmut, "run", "--max-children", str(max_children)], cwd=work, env=env, check=False
    )
    if run.returncode != 0:
        raise SystemExit(f"mutmut run failed for {module.name} (exit {run.returncode})")
    prefix = module.path.removesuffix(".py").replace("/", ".") + "."
    status = {k: v for k, v in results(work, mutmut).items() if k.startswith(prefix)}
    # mutmut keeps a survivor's verdict until the *source* changes; a new test does not
    # invalidate it. Survivors are few, so they are always tried again against today's tests.
    retry = sorted(k for k, s in status.items() if s not in KILLED)
    if retry:
        subprocess.run(  # noqa: S603 - our own mutmut, fixed arguments
            [mutmut, "run", "--max-children", str(max_children), *retry],
            cwd=work,
            env=env,
            check=True,
        )
        status.update({k: v for k, v in results(work, mutmut).items() if k.startswith(prefix)})
    seconds = time.monotonic() - started
    killed = sum(1 for s in status.values() if s in KILLED)
    alive = {k: s for k, s in status.items() if s not in KILLED}
    equivalent = sorted(k for k in alive if k in equivalents)
    survived = sorted((k, s) for k, s in alive.items() if k not in equivalents)
    stale = sorted(k for k in equivalents if k.startswith(prefix) and k not in alive)
    return Outcome(module, killed, equivalent, survived, stale, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="names from modules.toml (default: all)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant workers")
    args = parser.parse_args()
    modules = load_modules()
    unknown = set(args.modules) - {m.name for m in modules}
    if unknown:
        parser.error(f"unknown module(s): {', '.join(sorted(unknown))}")
    chosen = [m for m in modules if not args.modules or m.name in args.modules]
    equivalents = load_equivalents()

    outcomes = [run_module(m, equivalents, args.max_children) for m in chosen]

    print(f"\n{'module':<18}{'killed':>8}{'equiv.':>8}{'survived':>10}{'time':>9}")
    for o in outcomes:
        print(
            f"{o.module.name:<18}{o.killed:>8}{len(o.equivalent):>8}{len(o.survived):>10}"
            f"{o.seconds:>8.0f}s"
        )
    problems = False
    for o in outcomes:
        for name, state in o.survived:
            problems = True
            where = f".mutation/{o.module.name}"
            print(f"SURVIVED ({state}): {name}  (see: cd {where} && mutmut show {name})")
        for name in o.stale:
            problems = True
            print(f"STALE equivalent.txt entry (killed or gone): {name}")
    if problems:
        return 1
    print("\nAll mutants killed or named as equivalent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
