"""Load ``monitors.yaml`` into typed objects, or a list of errors each with its path.

The error format follows ``promtool check config``: one line per problem, the location first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.monitors import Monitors


@dataclass(frozen=True)
class ConfigIssue:
    path: str  # dotted path inside the document, e.g. "models[0].features[2].type"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    """The monitors file is unreadable or invalid; ``issues`` holds every problem found."""

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        lines = "\n".join(f"  {issue}" for issue in issues)
        super().__init__(f"{source}: {len(issues)} error(s)\n{lines}")


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _issues_from_validation(exc: ValidationError) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors():
        # pydantic puts model-level validator errors on the model itself; drop its internal tags.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        message = err["msg"].removeprefix("Value error, ")
        issues.append(ConfigIssue(_format_loc(loc), message))
    return issues


def parse_monitors(document: Any, source: str = "<monitors>") -> Monitors:
    """Validate an already-parsed YAML document. Raises ConfigError listing every problem."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(source, [ConfigIssue("", f"top level must be a mapping, got {type(document).__name__}")])
    try:
        return Monitors.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(source, _issues_from_validation(exc)) from None


def load_monitors(path: str | Path) -> Monitors:
    """Read and validate a monitors file. Raises ConfigError (bad YAML, bad content) or OSError."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(str(path), [ConfigIssue(where, f"invalid YAML: {getattr(exc, 'problem', exc)}")]) from None
    return parse_monitors(document, str(path))


def default_monitors_path() -> Path:
    """The example monitors file shipped in the repository, used when no --config is given."""
    return Path(__file__).resolve().parent.parent / "examples" / "monitors.yaml"
