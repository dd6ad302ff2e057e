"""Model registry: model name -> class and config dataclass, plus named configs (paper/lite/...).

Entries are "module:Class" strings resolved on use, so importing the registry stays cheap and
no module is scanned for globals. Every model class has a `config_class` attribute (a
dataclass) and takes that config as its only constructor argument.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from torch import nn

MODELS: dict[str, str] = {
    "deft_mamba_uss": "engine.models.uss:DeftMambaUSS",
    "deft_mamba_tse": "engine.models.tse:DeftMambaTSE",
    "m2d_sc": "engine.models.m2d_sc:M2DSC",
}


def model_class(name: str) -> type[nn.Module]:
    """The class registered under `name`; ValueError naming the known models otherwise."""
    try:
        target = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)


def named_configs(name: str) -> dict[str, Any]:
    """The named configs ('paper', 'lite', 'tiny', ...) a model module defines in `CONFIGS`."""
    module = importlib.import_module(MODELS[name].partition(":")[0])
    return dict(module.CONFIGS)


def config_from_dict(name: str, values: dict[str, Any]):
    """Rebuild a model's config dataclass from plain data, rejecting unknown fields clearly."""
    cls = model_class(name).config_class
    known = {f.name: f for f in dataclasses.fields(cls)}
    retired = getattr(cls, "retired_fields", frozenset())
    values = {k: v for k, v in values.items() if k not in retired}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{name} config has unknown fields {unknown}")
    kwargs = {}
    for key, value in values.items():
        # Plain data turns tuples into lists; restore them where the field default is a tuple.
        default = known[key].default
        kwargs[key] = _tuples(value) if isinstance(default, tuple) else value
    return cls(**kwargs)


def _tuples(value: Any) -> Any:
    """Lists (at any depth) back to tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value


def build_model(name: str, config: Any = "lite") -> nn.Module:
    """Instantiate model `name` from a config object, a dict, or a named config."""
    if isinstance(config, str):
        configs = named_configs(name)
        if config not in configs:
            raise ValueError(f"{name} has no config {config!r}; known: {', '.join(configs)}")
        config = configs[config]
    elif isinstance(config, dict):
        config = config_from_dict(name, config)
    return model_class(name)(config)
