"""Label matchers as in Alertmanager: ``name=value``, ``!=``, ``=~`` and ``!~`` (anchored RE2-like
regular expressions). A missing label matches as the empty string, so ``team!="a"`` matches an
alert without a team and ``team=~".*"`` matches everything."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["MatchOp", "Matcher", "matches_all", "parse_matcher"]

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$')


class MatchOp(str, Enum):
    equal = "="
    not_equal = "!="
    regex = "=~"
    not_regex = "!~"


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    # Alertmanager anchors every matcher regex: "page" does not match "pager".
    return re.compile(f"^(?:{pattern})$")


class Matcher(BaseModel):
    """One label condition. Parses from ``'severity="page"'`` text or ``{name, op, value}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    op: MatchOp
    value: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        return _split(data) if isinstance(data, str) else data

    @model_validator(mode="after")
    def _check_regex(self) -> Matcher:
        if self.op in (MatchOp.regex, MatchOp.not_regex):
            try:
                _compiled(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self} has an invalid regex: {exc}") from exc
        return self

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        if self.op is MatchOp.equal:
            return value == self.value
        if self.op is MatchOp.not_equal:
            return value != self.value
        found = _compiled(self.value).match(value) is not None
        return found if self.op is MatchOp.regex else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{escaped}"'


def _split(text: str) -> dict[str, str]:
    match = _MATCHER.match(text)
    if not match:
        raise ValueError(f"matcher {text!r} is not like name=\"value\" (ops: = != =~ !~)")
    name, op, value = match.groups()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return {"name": name, "op": op, "value": value}


def parse_matcher(text: str) -> Matcher:
    """Return the Matcher for ``text`` such as ``team=~"ml-.*"``; raises ValueError if malformed."""
    return Matcher.model_validate(text)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches (so no matchers match everything)."""
    return all(m.matches(labels) for m in matchers)
