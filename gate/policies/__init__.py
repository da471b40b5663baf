"""The built-in policy pack: YAML policy files, installed as ``gate.policies``."""
