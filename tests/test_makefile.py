"""`make help` lists every target the Makefile offers, from its `## target: description` lines."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from blueprint.synth import REPO_ROOT

MAKEFILE = (REPO_ROOT / "Makefile").read_text()
PHONY = set(re.search(r"^\.PHONY:(.*)$", MAKEFILE, re.M).group(1).split())
DOCUMENTED = dict(re.findall(r"^## ([\w-]+): (.+)$", MAKEFILE, re.M))


def test_every_public_target_is_documented():
    assert PHONY == set(DOCUMENTED)
    for target in PHONY:
        assert re.search(rf"^## {target}: .+\n{target}:", MAKEFILE, re.M), f"`## {target}:` must sit on its rule"


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_prints_every_target():
    out = subprocess.run(["make", "-s", "help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    listed = {line.split()[1] for line in out.splitlines() if line.strip()}
    assert listed == PHONY
