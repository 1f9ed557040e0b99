"""The stack configuration: schema (composed from each layer's settings), presets, rules and loader."""
