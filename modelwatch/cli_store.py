"""``modelwatch delete`` (deletion requests) and ``modelwatch retention`` (apply retention now),
plus the config-load audit the service commands write at start.

Like the rest of the CLI, only argparse is imported up front.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["add_store_commands", "audit_config_load"]


def audit_config_load(engine: Any, settings: Any, component: str, monitors: Any) -> None:
    """Record in the audit log that ``component`` started with ``settings.config`` (path and
    SHA-256). A database that cannot take the row is reported, not fatal: the service's own
    database handling (503s, retries) deals with an outage."""
    from sqlalchemy.exc import DBAPIError

    from store.audit import record_config_load

    try:
        record_config_load(engine, settings.config, component, len(monitors.models))
    except (DBAPIError, OSError) as exc:
        print(f"warning: config load not audited ({type(exc).__name__})", file=sys.stderr)


def _pii_key(model: Any, settings: Any) -> bytes | None:
    """The HMAC key the collector hashes ``model``'s fields and ids with (the service key when
    the model is not in the config)."""
    from collector.redaction import pii_key_for

    settings_key = settings.pii_key.get_secret_value().encode("utf-8") if settings.pii_key else None
    return settings_key if model is None else pii_key_for(model, settings_key)


def _entity(text: str, model: Any, settings: Any) -> Any:
    """KEY=VALUE -> store.deletion.Entity; the value's keyed hash is matched too when the model's
    PII policy hashes that field (what the collector stored instead of the value). Raises
    ValueError for a malformed argument or a key the model does not declare."""
    from modelwatch.redact import hash_value
    from store.deletion import Entity

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError("--entity must be KEY=VALUE")
    values = [value]
    if model is not None:
        declared = {f.name for f in model.features} | set(model.slices)
        if key not in declared:
            raise ValueError(f"{key!r} is neither a feature nor a slice of {model.name}; "
                             f"declared: {', '.join(sorted(declared))}")
        hash_key = _pii_key(model, settings)
        action = model.pii.fields.get(key)
        if action is not None and action.value == "hash" and hash_key is not None:
            values.append(hash_value(value, hash_key))
    return Entity(key, tuple(values))


def _prediction_ids(args: argparse.Namespace) -> list[str]:
    ids = list(args.prediction_ids or [])
    if args.ids_file:
        with open(args.ids_file, encoding="utf-8") as handle:
            ids.extend(line.strip() for line in handle if line.strip())
    return ids


def _hashed_ids(ids: list[str], model: Any, settings: Any) -> list[str]:
    """The keyed hashes of ``ids``: what the collector stored instead of an id its PII policy
    hashes (``prediction_id: hash``, or ``detect`` and the id holds an e-mail, phone or card
    number). Every id's hash is matched whatever today's policy, so rows stored under an earlier
    policy go too. Without a key none can be computed: a note says so when the policy needs one."""
    from modelwatch.redact import RedactionPolicy, hash_value
    from modelwatch.redact_ids import redact_prediction_id

    key = _pii_key(model, settings)
    if key is not None:
        return [hash_value(i, key) for i in ids]
    pii = model.pii if model is not None else None
    policy = RedactionPolicy(detectors=tuple(pii.detectors) if pii else ("email", "card", "phone"),
                             prediction_id=pii.prediction_id if pii else "detect")
    if any(redact_prediction_id(i, policy) is None for i in ids):
        print("note: no PII key (MODELWATCH_PII_KEY): ids the collector stored hashed cannot be matched",
              file=sys.stderr)
    return []


def cmd_delete(args: argparse.Namespace) -> int:
    from modelwatch.cli import _load_monitors_or_exit, _open_store, _settings
    from store.audit import cli_actor
    from store.deletion import delete_predictions

    settings = _settings(args)
    ids = _prediction_ids(args)
    if bool(ids) == bool(args.entity):
        print("FAILED: give --prediction-id/--ids-file or --entity (one kind per request)", file=sys.stderr)
        return 2
    model = _load_monitors_or_exit(settings).model(args.model)
    if model is None:
        # A model taken out of the config may still hold data: the request is carried out anyway.
        print(f"note: {args.model!r} is not in {settings.config}; entity keys are not checked", file=sys.stderr)
    try:
        entity = _entity(args.entity, model, settings) if args.entity else None
    except ValueError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 2
    engine = _open_store(settings)
    try:
        report = delete_predictions(engine, args.model, actor=args.actor or cli_actor(), prediction_ids=ids,
                                    stored_ids=_hashed_ids(ids, model, settings), entity=entity,
                                    dry_run=args.dry_run)
    finally:
        engine.dispose()
    verb = "would delete" if report.dry_run else "deleted"
    rows = ", ".join(f"{n} {table}" for table, n in report.rows.items())
    # Counts only: the ids and values asked about are personal data and stay off the terminal log.
    print(f"{args.model}: {report.matched_ids} prediction id(s) matched; {verb} {rows}"
          f"{'' if report.dry_run else ' (audit_log: deletion.request)'}")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from modelwatch.cli import _open_store, _settings
    from store.audit import cli_actor
    from store.retention import apply_retention, retention_policies

    settings = _settings(args)
    try:
        policies = retention_policies(settings.retention_days)
    except ValueError as exc:
        print(f"FAILED: MODELWATCH_RETENTION_DAYS: {exc}", file=sys.stderr)
        return 2
    engine = _open_store(settings)
    try:
        report = apply_retention(engine, policies, datetime.now(timezone.utc), actor=cli_actor())
    finally:
        engine.dispose()
    for table, n in report.deleted.items():
        print(f"{table}: {n} row(s) deleted (older than {policies[table].total_seconds() / 86400:g} days)")  # type: ignore[union-attr]
    for table, keep in report.timescale_policies.items():
        print(f"{table}: TimescaleDB retention policy {'off' if keep is None else f'{keep.days} days'}")
    return 0


def add_store_commands(sub: Any, add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    delete = sub.add_parser("delete", help="delete a subject's predictions, labels and shadow outputs (audited)")
    delete.add_argument("--model", required=True, help="the model whose rows are deleted")
    delete.add_argument("--prediction-id", dest="prediction_ids", action="extend", nargs="+", metavar="ID",
                        help="prediction ids to delete (repeatable); their keyed hashes are matched too")
    delete.add_argument("--ids-file", help="a file of prediction ids, one per line")
    delete.add_argument("--entity", metavar="KEY=VALUE",
                        help="every prediction whose feature or slice KEY holds VALUE (hashed fields: matched by hash)")
    delete.add_argument("--actor", help="who asked, for the audit log (default cli:<login>)")
    delete.add_argument("--dry-run", action="store_true", help="count what would be deleted; change nothing")
    add_db_flags(delete)
    delete.set_defaults(func=cmd_delete)

    retention = sub.add_parser("retention", help="delete rows past each table's retention now (the scheduler does it daily)")
    add_db_flags(retention)
    retention.set_defaults(func=cmd_retention)
