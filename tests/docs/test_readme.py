"""The README keeps its promises: every relative link resolves to a file in the repository, and
every monitors YAML it shows passes ``modelwatch check`` (the reference example and the SLO
cookbook, as a user would copy them). The PII policy block of docs/protocol.md too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from modelwatch.cli import main
from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
# [text](target) and ![alt](target); a title after the target ("...") is not part of it.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_YAML = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
_EXTERNAL = ("http://", "https://", "mailto:", "#")


def relative_links(markdown: str) -> list[str]:
    return [t for t in _LINK.findall(markdown) if not t.startswith(_EXTERNAL)]


def yaml_blocks(markdown: str) -> list[str]:
    return _YAML.findall(markdown)


def check(tmp_path: Path, document: dict, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    status = main(["check", str(path)])
    out = capsys.readouterr()
    assert status == 0, f"{name}: {out.err}"
    assert "SUCCESS" in out.out


def test_the_link_pattern_finds_links_and_skips_external_ones() -> None:
    text = 'see [a](docs/a.md), ![shot](docs/s.png "title"), [b](https://x.org) and [c](#top), [d](x.md#part)'
    assert relative_links(text) == ["docs/a.md", "docs/s.png", "x.md#part"]


def test_every_relative_link_in_the_readme_resolves() -> None:
    links = relative_links(README.read_text())
    assert len(links) > 10  # the pattern really reads the README's links
    missing = sorted({t for t in links if not (REPO_ROOT / t.split("#", 1)[0]).exists()})
    assert not missing, f"README links to files that do not exist: {missing}"


def test_the_readme_yaml_reference_and_cookbook_pass_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [yaml.safe_load(b) for b in yaml_blocks(README.read_text())]
    (reference,) = [b for b in blocks if isinstance(b, dict) and "models" in b]
    check(tmp_path, reference, "reference", capsys)
    (cookbook,) = [b for b in blocks if isinstance(b, dict) and set(b) == {"slos"}]
    model = {"name": "cookbook", "task": "binary", "positive_class": "1",
             "features": [{"name": "amount", "type": "numeric"}], **cookbook}
    check(tmp_path, {"version": 1, "models": [model]}, "cookbook", capsys)
    assert len(cookbook["slos"]) >= 6 and {s["kind"] for s in cookbook["slos"]} >= {
        "availability", "latency", "quality", "label_freshness", "drift_free"}


def test_the_pii_policy_block_of_the_protocol_doc_passes_check(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [yaml.safe_load(b) for b in yaml_blocks((REPO_ROOT / "docs" / "protocol.md").read_text())]
    (policy,) = [b for b in blocks if isinstance(b, dict) and set(b) == {"pii"}]
    named = sorted(policy["pii"]["fields"])
    model = {"name": "pii", "task": "regression", "features": [{"name": n, "type": "text"} for n in named], **policy}
    check(tmp_path, {"version": 1, "models": [model]}, "pii", capsys)
