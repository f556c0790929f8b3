"""Every change to the shadow registry is in the audit log: a candidate added or revived, removed,
a production reference retired by a newer one, with who did it; a no-op re-registration and a
second remove of the same candidate leave no row. Through the registry (SQLite and PostgreSQL)
and through ``modelwatch shadow add/remove``."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelwatch.cli import main
from shadow.errors import CandidateNotFound
from shadow.registry import register_candidate, remove_candidate
from store.audit import read_audit
from tests.shadow.conftest import Models, Seed
from tests.shadow.test_api_cli import cli_env  # noqa: F401  (fixture)


def shadow_rows(seed: Seed) -> list[tuple[str, str, str]]:
    return [(r.action, r.target, r.actor) for r in read_audit(seed.engine) if r.action.startswith("shadow.")]


def test_add_remove_revive_and_retire_are_audited(small_seed: Seed, models: Models) -> None:
    engine, model = small_seed.engine, small_seed.model
    first = register_candidate(engine, model, "v2", models.onnx["better"], production=models.onnx["production"],
                               actor="alice")
    assert first.production is not None
    old_production = first.production.name
    register_candidate(engine, model, "v2", models.onnx["better"], actor="alice")  # already active: no change
    assert shadow_rows(small_seed) == [("shadow.add", f"model:fraud/candidate:{old_production}", "alice"),
                                       ("shadow.add", "model:fraud/candidate:v2", "alice")]
    (added,) = [r for r in read_audit(engine, "shadow.add") if r.target.endswith("candidate:v2")]
    assert added.details["sha256"] == first.candidate.sha256 and added.details["revived"] is False
    assert added.details["production"] is False and added.details["size_bytes"] == len(models.onnx["better"])

    remove_candidate(engine, "fraud", "v2", actor="bob")
    with pytest.raises(CandidateNotFound):
        remove_candidate(engine, "fraud", "v2", actor="bob")
    register_candidate(engine, model, "v2", models.onnx["better"], actor="carol")  # revived
    # A new production file retires the previous reference: audited as its removal.
    second = register_candidate(engine, model, "v3", models.onnx["worse"], production=models.onnx["same"])
    assert second.production is not None and second.production.name != old_production

    rows = shadow_rows(small_seed)[2:]
    assert [(action, target.rsplit(":", 1)[1], actor) for action, target, actor in rows[:2]] == [
        ("shadow.remove", "v2", "bob"), ("shadow.add", "v2", "carol")]
    assert read_audit(engine, "shadow.add")[-3].details["revived"] is True
    assert [(a, t.rsplit(":", 1)[1]) for a, t, _ in rows[2:]] == [
        ("shadow.add", second.production.name), ("shadow.remove", old_production), ("shadow.add", "v3")]
    retired = read_audit(engine, "shadow.remove")[-1]
    assert retired.details == {"replaced_by": second.production.name}
    assert all(actor.startswith("shadow@") for _, _, actor in rows[2:])  # no actor given: this process


def test_cli_add_and_remove_are_audited_as_the_login(cli_env: tuple[list[str], Seed, Path]) -> None:  # noqa: F811
    flags, seed, files = cli_env
    assert main(["shadow", "add", "--model", "fraud", "--name", "worse", str(files / "worse.onnx"), *flags]) == 0
    assert main(["shadow", "remove", "--model", "fraud", "--name", "worse", *flags]) == 0
    assert main(["shadow", "remove", "--model", "fraud", "--name", "worse", *flags]) == 2
    rows = shadow_rows(seed)
    assert [(a, t) for a, t, _ in rows] == [("shadow.add", "model:fraud/candidate:worse"),
                                            ("shadow.remove", "model:fraud/candidate:worse")]
    assert all(actor.startswith("cli:") for _, _, actor in rows)


def test_the_runner_inside_up_audits_its_config_load(cli_env: tuple[list[str], Seed, Path]) -> None:  # noqa: F811
    from config.loader import load_monitors
    from config.settings import Settings
    from modelwatch.cli_shadow import start_background_runner

    flags, seed, _ = cli_env
    settings = Settings(database_url=flags[1], config=Path(flags[3]))
    stop = start_background_runner(settings, load_monitors(settings.config))
    stop()
    (row,) = read_audit(seed.engine, "config.load")
    assert row.details["component"] == "shadow-runner" and row.actor.startswith("shadow-runner@")
