"""Monitors-as-code and service settings."""

from config.loader import ConfigError, ConfigIssue, default_monitors_path, load_monitors, parse_monitors
from config.monitors import Feature, FeatureType, Model, Monitors, PiiAction, PiiPolicy, Task
from config.settings import Settings

__all__ = [
    "ConfigError", "ConfigIssue", "Feature", "FeatureType", "Model", "Monitors", "PiiAction",
    "PiiPolicy", "Settings", "Task", "default_monitors_path", "load_monitors", "parse_monitors",
]
