"""Configuration: ``.gate.yaml`` (or ``--config FILE``), validated by schema."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from gate.environments import EnvironmentConfig, parse_environments
from gate.errors import ConfigError
from gate.policy import Policy, schema_error, schema_validator
from gate.results import SEVERITIES
from gate.yamlio import LocatedYaml, YamlInputError, read_located

CONFIG_NAMES = (".gate.yaml", ".gate.yml")


@dataclass
class Config:
    file: str | None = None
    builtin: bool = True
    policy_dirs: list[str] = field(default_factory=list)
    fail_on: str = SEVERITIES[-1]
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    environments: EnvironmentConfig = field(default_factory=EnvironmentConfig)
    located: LocatedYaml | None = field(default=None, repr=False)

    def line(self, *path: str | int) -> int | None:
        return self.located.line(0, path) if self.located else None

    def error(self, message: str, *path: str | int) -> ConfigError:
        return ConfigError(message, self.file, self.line(*path))


def find_config(start: str = ".") -> str | None:
    """The nearest config file in ``start`` or its parents, up to the repository root."""
    directory = os.path.abspath(start)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        if os.path.exists(os.path.join(directory, ".git")):
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_config(path: str | None) -> Config:
    """Load and validate a config file; no path means the defaults."""
    if path is None:
        return Config()
    from gate.sources import display_name

    name = display_name(path)
    if not os.path.isfile(path):
        raise ConfigError("config file not found", name)
    try:
        located = read_located(path, name)
    except YamlInputError as exc:
        raise ConfigError(exc.message, exc.file, exc.line) from None
    documents = [d for d in located.documents if d.data is not None]
    if len(documents) > 1:
        raise ConfigError("a config file holds one YAML document", name, documents[1].line)
    data = documents[0].data if documents else {}
    config = Config(file=name, located=located)
    if not isinstance(data, dict):
        raise config.error(f"config must be a mapping, not a {type(data).__name__}")
    found = schema_error(schema_validator("config.schema.json"), data)
    if found is not None:
        raise config.error(found[1], *found[0])
    base = os.path.dirname(path)
    config.builtin = data.get("builtin", True)
    config.policy_dirs = [os.path.join(base, d) for d in data.get("policy_dirs", [])]
    config.fail_on = data.get("fail_on", SEVERITIES[-1])
    config.policies = data.get("policies", {})
    config.environments = parse_environments(data.get("environments"), name, config.line)
    return config


def apply_config(config: Config, policies: list[Policy]) -> list[Policy]:
    """The enabled policies, each with its configured settings and parameters."""
    by_id = {policy.id: policy for policy in policies}
    for policy_id in config.policies:
        if policy_id not in by_id:
            known = ", ".join(sorted(by_id)) or "none loaded"
            raise config.error(
                f"policies: unknown policy id {policy_id!r} (known: {known})", "policies", policy_id
            )
    configured: list[Policy] = []
    for policy in policies:
        settings = config.policies.get(policy.id, {})
        base = _configure(config, policy, settings, ("policies", policy.id))
        variants = {
            environment: _configure(
                config, base, overrides, ("policies", policy.id, "environments", environment)
            )
            for environment, overrides in sorted(settings.get("environments", {}).items())
        }
        if base.enabled or any(variant.enabled for variant in variants.values()):
            base.variants = variants
            configured.append(base)
    return configured


def _configure(
    config: Config, policy: Policy, settings: dict[str, Any], where: tuple[str, ...]
) -> Policy:
    """``policy`` with one block of settings (the policy's own, or one environment's)."""
    params = settings.get("parameters", {})
    for name, value in params.items():
        parameter = policy.parameters.get(name)
        at = (*where, "parameters", name)
        if parameter is None:
            known = ", ".join(sorted(policy.parameters)) or "none"
            raise config.error(
                f"policy {policy.id!r} has no parameter {name!r} (known: {known})", *at
            )
        problem = parameter.validate(value)
        if problem is not None:
            raise config.error(f"policy {policy.id!r}: {problem}", *at)
    return policy.configured(
        enabled=settings.get("enabled"),
        severity=settings.get("severity"),
        enforcement=settings.get("enforcement"),
        params=params,
    )
