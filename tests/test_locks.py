"""The lock files agree with the requirements files they are generated from (`make lock`).

A range edited without `make lock` fails here, before an install would quietly keep the old pin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from blueprint.synth import REPO_ROOT

# Each lock and the requirements file it is compiled from.
LOCKS = {"requirements-plan.lock": "requirements-plan.txt", "requirements-dev.lock": "requirements-dev.txt"}
# The Linux machines the locks are for: x86_64 and aarch64, CPython 3.11 and later.
LINUX = [{"platform_machine": machine, "python_version": python, "python_full_version": f"{python}.0",
          "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}
         for machine in ("x86_64", "aarch64") for python in ("3.11", "3.12", "3.13", "3.14")]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def declared(path: Path) -> list[Requirement]:
    """The requirements of a requirements file, following its `-r` includes."""
    requirements: list[Requirement] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            requirements += declared(path.parent / line[3:].strip())
        elif line:
            requirements.append(Requirement(line))
    return requirements


def pins(lock: str) -> dict[str, tuple[str, Marker | None, int]]:
    """name -> (version, marker, number of hashes) for every pin of a lock file."""
    found: dict[str, tuple[str, Marker | None, int]] = {}
    current = ""
    for line in (REPO_ROOT / lock).read_text().splitlines():
        if match := PIN.match(line):
            current = canonicalize_name(match.group(1))
            marker = Marker(match.group(3)) if match.group(3) else None
            found[current] = (match.group(2), marker, 0)
        elif line.strip().startswith("--hash=sha256:") and current:
            version, marker, hashes = found[current]
            found[current] = (version, marker, hashes + 1)
    return found


@pytest.mark.parametrize("lock", LOCKS)
def test_every_declared_range_is_pinned_within_it(lock):
    locked = pins(lock)
    for requirement in declared(REPO_ROOT / LOCKS[lock]):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in {lock}: run `make lock`"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (
            f"{lock} pins {name}=={locked[name][0]}, outside {requirement.specifier}: run `make lock`")


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_hashes(lock):
    assert all(hashes for _, _, hashes in pins(lock).values())


def test_the_plan_lock_is_the_dev_lock_cut_down():
    # `make plan` then `make test` must not change a version the plan installed.
    plan, dev = pins("requirements-plan.lock"), pins("requirements-dev.lock")
    assert {name: pin[0] for name, pin in plan.items()} == {name: dev[name][0] for name in plan if name in dev}
    assert set(plan) <= set(dev)


def test_the_locks_hold_for_linux_x86_64_and_aarch64_from_python_3_11():
    # One resolution for every platform: a marker may leave a pin out on another OS (Windows),
    # never on one Linux machine or Python version from 3.11 and not on another.
    for lock in LOCKS:
        for name, (_, marker, _) in pins(lock).items():
            if marker is not None:
                answers = {marker.evaluate(environment) for environment in LINUX}
                assert len(answers) == 1, f"{lock}: {name} ; {marker} differs between Linux machines or Pythons"
