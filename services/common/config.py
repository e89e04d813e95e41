"""The one config loader: nameko's YAML with `${ENV_VAR:default}` substitution.

Services started with `nameko run --config config.yaml` get it from nameko; tests and tools call
`load_config()` so they read the very same file the same way.
"""
import os

import yaml
from nameko.cli.main import setup_yaml_parser

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_PATH = os.path.join(ROOT, "config.yaml")

_parser_ready = False


def load_config(path=DEFAULT_PATH, **overrides):
    global _parser_ready
    if not _parser_ready:
        setup_yaml_parser()
        _parser_ready = True
    with open(path) as handle:
        config = yaml.safe_load(handle)
    config.update(overrides)
    return config


def database_name(config, service):
    """Each service owns one database; a prefix keeps deployments (and test runs) apart."""
    return f"{config['DB_PREFIX']}_{service}"
