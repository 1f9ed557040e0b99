"""The retail platform program: validate the stack config, build the platform, export."""

from pathlib import Path

import pulumi

from components.platform.retail_platform import RetailPlatform
from config.loader import load_stack_config

# Validation comes first: an invalid config raises here, before any resource is registered.
config = load_stack_config(Path(__file__).parent)
platform = RetailPlatform("retail", config, stack=pulumi.get_stack())

for key, value in platform.outputs.items():
    pulumi.export(key, value)
