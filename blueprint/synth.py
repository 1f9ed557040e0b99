"""Run the real program for one stack, in-process, under Pulumi's mock runtime.

The program is ``__main__.py`` itself, unchanged: what the offline plan shows is what
``pulumi up`` would be asked to create. Only the engine around it is replaced.
"""

from __future__ import annotations

import asyncio
import json
import logging
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from blueprint.graph import Resource, ResourceGraph
from blueprint.mocks import RecordingMonitor, RetailMocks
from config.source import StackFileError, read_stack_file

REPO_ROOT = Path(__file__).resolve().parent.parent


class StackNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class Project:
    name: str
    stack_config_dir: Path
    main: Path
    defaults: Mapping[str, str]
    """Project-level config defaults (``config:`` in Pulumi.yaml), keyed ``namespace:key``."""

    @classmethod
    def load(cls, root: Path = REPO_ROOT) -> Project:
        data = yaml.safe_load((root / "Pulumi.yaml").read_text())
        name = data["name"]
        defaults: dict[str, str] = {}
        for key, declaration in (data.get("config") or {}).items():
            full_key = key if ":" in key else f"{name}:{key}"
            if isinstance(declaration, Mapping):
                # The CLI fills a key the stack file leaves unset from `default` (a typed key of
                # the project's own namespace) or from `value` (any key: the only form it accepts
                # for another namespace, such as `retail:` once the project has another name).
                for attribute in ("value", "default"):
                    if declaration.get(attribute) is not None:
                        defaults[full_key] = config_text(declaration[attribute])
            else:
                defaults[full_key] = config_text(declaration)
        return cls(
            name=name,
            stack_config_dir=root / data.get("stackConfigDir", "."),
            main=root / (data.get("main") or "__main__.py"),
            defaults=defaults,
        )

    def stacks(self) -> list[str]:
        return sorted(p.name[len("Pulumi."):-len(".yaml")]
                      for p in self.stack_config_dir.glob("Pulumi.*.yaml"))

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack}.yaml"

    def stack_config(self, stack: str) -> dict[str, str]:
        """The flat config map the engine would hand the program: project defaults, then the
        stack file, every value as text (structured values as JSON), as ``PULUMI_CONFIG`` holds."""
        path = self.stack_file(stack)
        if not path.exists():
            known = ", ".join(self.stacks()) or "none"
            raise StackNotFoundError(f"no stack file {path.relative_to(path.parent.parent)} (stacks: {known})")
        config = dict(self.defaults)
        # The CLI refuses a stack file it cannot read; so does the offline engine, with the line.
        stack_file = read_stack_file(path)
        empty = [(stack_file.lines.get(key), f"{key} has no value (null); give it one or remove the line")
                 for key, value in stack_file.config.items() if value is None]
        if empty:
            raise StackFileError(path, empty)
        for key, value in stack_file.config.items():
            full_key = key if ":" in key else f"{self.name}:{key}"
            # Ciphertext ({secure: ...}) needs the stack's secrets provider: offline it is passed on
            # as written, so the program's validation can say which key should not be a secret.
            config[full_key] = config_text(value)
        return config


def config_text(value: Any) -> str:
    """A config value as the engine hands it to a program: text, structured values as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def synthesize(
    stack: str,
    *,
    config: Mapping[str, str] | None = None,
    project: Project | None = None,
    monitor: RecordingMonitor | None = None,
) -> ResourceGraph:
    """Run the program for ``stack`` under mocks and return what it registered.

    ``config`` replaces the stack file's config (project defaults still apply), for callers
    that want to try a variation without writing a file. A ``pulumi.RunError`` raised by the
    program (an invalid stack config) propagates unchanged; pass ``monitor`` to see what was
    registered before it.
    """
    project = project or Project.load()
    flat = {**project.defaults, **config} if config is not None else project.stack_config(stack)

    def program() -> None:
        if str(project.main.parent) not in sys.path:
            sys.path.insert(0, str(project.main.parent))
        runpy.run_path(str(project.main), run_name="__main__")

    return run_program(program, project=project.name, stack=stack, config=flat, monitor=monitor)


def run_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    monitor: RecordingMonitor | None = None,
) -> ResourceGraph:
    """Run any Pulumi program function under the blueprint's mocks and record its graph.

    ``synthesize`` runs the real program through it; the synth benchmark runs a flat program
    through it, so both pay for exactly the same engine.
    """
    region = config.get("aws:region", "")
    mocks = RetailMocks(default_region=region)
    if monitor is None:
        monitor = RecordingMonitor(mocks)
    else:
        monitor.mocks = mocks
    logger = logging.getLogger(f"blueprint.synth.{stack}")
    logger.propagate = False
    collector = _WarningCollector()
    logger.handlers = [collector]

    # Each run starts from a clean runtime, so several stacks can run in one process. The
    # SDK drives its event loop through get_event_loop(), which fails once anything in the
    # process has called asyncio.run() (that leaves no current loop), so make sure of one.
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi_settings.ROOT.set(None)
    set_all_config(dict(config), [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False,
                             logger=logger, monitor=monitor)
    root = pulumi_settings.get_root_resource()
    exported: dict[str, Any] = {}

    def run() -> None:
        program()
        outputs = dict(getattr(root, "outputs", {}))
        exported.update(_sync_await(pulumi.Output.from_input(outputs).future()) or {})

    try:
        _sync_await(run_pulumi_func(run))
        # A warning attached to a resource is logged by a task the SDK does not track (it waits
        # for the resource's URN first). Finish those here: left pending, one lands in the next
        # run's warnings and two identical plans differ.
        loop = asyncio.get_event_loop()
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    finally:
        logger.handlers = []
        # Both are context variables the SDK attaches to SETTINGS at run time, which a static
        # checker cannot see.
        pulumi_settings.SETTINGS.rpc_manager.clear()  # pyright: ignore[reportAttributeAccessIssue]
        pulumi_settings.SETTINGS.outputs.clear()  # pyright: ignore[reportAttributeAccessIssue]

    # Sorted by URN: registration order depends on when outputs resolve, and a plan that
    # reorders itself between runs makes every diff of it noise.
    resources = tuple(sorted((
        Resource(
            urn=r.urn, type=r.type, name=r.name, custom=r.custom, inputs=r.inputs, id=r.id,
            parent=r.parent, provider=r.provider, dependencies=tuple(r.dependencies),
            property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
            protect=r.protect, aliases=tuple(r.aliases), region=_region_of(r.type, r.inputs, r.custom, region),
        )
        for r in monitor.registrations
    ), key=lambda resource: resource.urn))
    # Sorted too: a warning about a resource is logged once that resource's URN resolves, so
    # their arrival order changes from run to run.
    return ResourceGraph(project=project, stack=stack, region=region, resources=resources,
                         outputs=exported, warnings=tuple(sorted(collector.messages)))


#: AWS services whose resources are not in any one region.
GLOBAL_SERVICES = frozenset({"iam", "cloudfront", "route53", "organizations", "budgets", "shield"})
GLOBAL = "global"


def _region_of(type_token: str, inputs: Mapping[str, Any], custom: bool, default: str) -> str | None:
    if not custom or not type_token.startswith("aws:"):
        return None
    if type_token.removeprefix("aws:").split("/", 1)[0] in GLOBAL_SERVICES:
        return GLOBAL
    if isinstance(inputs.get("region"), str):
        return inputs["region"]
    return default
