"""Every page of the real app, run headless by Streamlit's AppTest on the seeded store: the
numbers shown are checked against the seeded counts and against the store's own rows."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
import sqlalchemy as sa

from analysis.stats.histogram import histogram_quantile
from dashboard import fmt
from modelwatch.counters import DEFAULT_BOUNDS_MS
from tests.dashboard.conftest import SeededStore
from tests.dashboard.html_read import histogram_bars, html_tables, parse_tables
from tests.dashboard.seed import DEPLOY_AGO, OUTAGE_MINUTES

pytestmark = pytest.mark.timeout(240)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at) -> list[str]:
    return [e.value for kind in ("info", "warning", "success", "error") for e in getattr(at, kind)]


def charts(at) -> list[tuple[dict, list]]:
    """(Vega-Lite spec, data frames) of every chart (AppTest shows them as UnknownElement)."""
    out = []
    for el in at.get("vega_lite_chart"):
        frames = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in el.proto.datasets]
        out.append((json.loads(el.proto.spec), frames))
    return out


def rows(store: SeededStore, sql: str, **params) -> list:
    engine = sa.create_engine(store.url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def test_overview_ranks_the_paging_model_first_and_shows_its_numbers(seeded_store, open_page):
    at = open_page(seeded_store, "overview")
    s = seeded_store.seeded
    requests, errors, _ = s.totals(s.start, s.now)
    fleet, budgets = html_tables(at)
    assert list(fleet["model"]) == ["fraud", "churn"] and list(fleet["risk"]) == ["paging", "ok"]
    assert fleet["requests"][0] == f"{requests:,}" and requests == 24 * 60 * 100
    assert fleet["availability"][0] == fmt.pct(1 - errors / requests, 3) and errors == OUTAGE_MINUTES * 20
    assert fleet["availability"][1] == "100.000 %"
    shown = metrics(at)
    assert shown["Availability"] == fmt.pct(1 - errors / requests, 3) == "99.583 %"
    assert shown["Deploys / week"] == "7.0"  # v2, deployed 10 h ago, is the day's one deploy
    firing = rows(seeded_store, "SELECT count(*) FROM alerts WHERE model = 'fraud' AND state = 'firing'")[0][0]
    assert shown["Open incidents"] == str(firing) and firing >= 2
    # labels are 3 h late and the last 6 h have none: the latest window's accuracy is an estimate
    assert "Accuracy (estimated)" in shown and shown["Accuracy (estimated)"].endswith("%")
    assert fleet["accuracy is"][0] == "estimated"
    budgets = budgets.set_index("SLO")
    stored = dict(rows(seeded_store, "SELECT slo, budget_remaining FROM slo_status WHERE model = 'fraud'"))
    assert set(budgets.index) == {"availability", "latency-p99", "accuracy"}
    for slo, budget in stored.items():
        assert budgets.loc[slo, "budget left"] == fmt.pct(budget, 1)
    assert budgets.loc["availability", "state"] == "firing" and budgets.loc["availability", "exhausts in"] == "exhausted"


def test_oncall_latency_percentiles_come_from_the_counter_histograms(seeded_store, open_page):
    at = open_page(seeded_store, "oncall")
    s = seeded_store.seeded
    requests, errors, latencies = s.totals(s.start, s.now)
    shown = metrics(at)
    assert shown["Current version"] == "v2"
    assert shown["Requests"] == f"{requests:,}" and shown["Error rate"] == fmt.pct(errors / requests, 3)
    counts = np.bincount(np.searchsorted(DEFAULT_BOUNDS_MS, latencies, side="left"), minlength=len(DEFAULT_BOUNDS_MS) + 1)
    for q, label in ((0.95, "Latency p95"), (0.99, "Latency p99")):
        expected = float(histogram_quantile(q, DEFAULT_BOUNDS_MS, counts))
        assert shown[label] == fmt.ms(expected)
        exact = float(np.quantile(latencies, q))  # the true percentile sits in the same bucket
        bucket = np.searchsorted(DEFAULT_BOUNDS_MS, [exact, expected], side="left")
        assert bucket[0] == bucket[1]
    burns = at.dataframe[1].value
    page = burns[(burns["SLO"] == "availability") & (burns["rule"] == "page-14.4x-1h-5m")].iloc[0]
    assert page["state"] == "firing" and page["threshold"] == "14.4x" and page["short window"] == "200x"
    active = at.dataframe[0].value
    assert {"availability", "latency-p99"} <= set(active[active["severity"] == "page"]["SLO / feature"])
    assert all(link.startswith("./alerts?") for link in active["details"])
    latency, error_rate = charts(at)[:2]
    assert {"p95", "p99"} == set(latency[1][0]["series"])
    assert any("deploy v2" in set(f.get("version", [])) for f in latency[1])  # the deploy annotation
    assert max(error_rate[1][0]["value"]) == pytest.approx(0.2)  # the outage's 20 % errors
    assert list(at.dataframe[-1].value["version"]) == ["v2", "v1"]


def test_oncall_follows_the_chosen_version(seeded_store, open_page):
    at = open_page(seeded_store, "oncall", version="v1")
    s = seeded_store.seeded
    requests, _, _ = s.totals(s.start, s.now - DEPLOY_AGO)
    assert metrics(at)["Requests"] == f"{requests:,}"
    assert "analysis results and SLOs cover every version" in at.caption[0].value


def test_debug_shows_the_drifted_feature_quality_slices_and_failures(seeded_store, open_page):
    at = open_page(seeded_store, "debug")
    tables = html_tables(at)
    drift = tables[0].set_index("feature")
    assert drift.index[0] == "x" and drift.loc["x", "decision"] == "drift"
    assert drift.loc["country", "decision"] == "no_drift"
    drifted, windows = map(int, drift.loc["x", "windows drifted"].split("/"))
    stored_drifted = rows(seeded_store, "SELECT count(*) FROM analysis_results WHERE kind = 'drift' AND metric = 'drift' "
                                        "AND feature = 'x' AND slice_key = '' AND status = 'drift'")[0][0]
    # the last 6 hours drifted; the newest of them is analysed only once 5 minutes past the hour
    assert drifted == stored_drifted and drifted in (5, 6) and windows >= 22
    stored = rows(seeded_store, "SELECT value FROM analysis_results WHERE kind = 'drift' AND metric = 'drift' "
                                "AND feature = 'x' AND slice_key = '' ORDER BY window_start DESC LIMIT 1")[0][0]
    assert drift.loc["x", "value"] == f"{stored:.3f}"
    # the sparkline's text: every window of the range, ending on the latest value
    assert drift.loc["x", "effect size over time"].startswith(f"effect size over {windows} windows: ")
    assert drift.loc["x", "effect size over time"].endswith(f"latest {stored:.3g}")
    assert at.selectbox(key="mw_choice_feature").value == "x"  # the most drifted feature by default
    bars = histogram_bars(at)
    shares = bars.pivot_table(index="bin", columns="data", values="share")
    current = [c for c in shares.columns if c.startswith("current")][0]
    assert list(dict.fromkeys(bars["bin"]))[-1] == "missing"  # the profile's bin order
    assert shares["reference"].sum() == pytest.approx(1.0, abs=1e-3) and shares[current].sum() == pytest.approx(1.0, abs=1e-3)
    assert shares.loc["(1.30033, +inf)", current] > 0.5 > shares.loc["(1.30033, +inf)", "reference"]
    quality = next(t for t in tables if "check" in t.columns)
    assert ("missing_rate", "amount") in set(zip(quality["check"], quality["feature"]))
    slices = next(t for t in tables if "interval" in t.columns)
    assert slices["slice"].iloc[0] == "country=FR"  # its labels are often the other class
    for _, row in slices[slices["accuracy"] != fmt.MISSING].iterrows():
        lower, value, upper = (float(row[c]) for c in ("lower", "accuracy", "upper"))
        assert lower <= value <= upper and row["interval"] == f"{row['accuracy']} [{row['lower']}, {row['upper']}]"
    failures = tables[-1]
    expected = rows(seeded_store, "SELECT count(*) FROM predictions WHERE error IS NOT NULL")[0][0]
    assert len(failures) == min(expected, 20) and set(failures["error"]) == {"upstream timeout: feature store"}
    assert set(failures["email"]) == {"[redacted:email]"}


def test_debug_statistics_of_the_chosen_feature_render_only_once_opened(seeded_store, open_page):
    at = open_page(seeded_store, "debug")
    details = at.expander[0]
    assert details.label == "Every statistic for x (latest window)" and len(details.html) == 0  # nothing sent
    at.session_state["mw_statistics"] = True  # what clicking the expander does (it reruns the page)
    at.run()
    statistics = parse_tables(at.expander[0].html[0].proto.body)[0]
    drift = html_tables(at)[0].set_index("feature")
    shown = statistics.set_index("statistic")
    assert drift.loc["x", "statistic"] in shown.index and len(shown) >= 2
    assert shown.loc[drift.loc["x", "statistic"], "decision"] == "exceeds"  # the statistic behind the drift


def test_debug_categorical_overlay_and_delayed_labels(seeded_store, open_page):
    s = seeded_store.seeded
    at = open_page(seeded_store, "debug", feature="country",
                   **{"from": (s.now - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert list(dict.fromkeys(histogram_bars(at)["bin"])) == ["DE", "US", "FR", "other", "unseen", "missing"]
    assert "No labels yet for this window — labels arrive via POST /v1/labels" in " ".join(texts(at))
    assert at.query_params["feature"] == "country"


def test_slos_burndown_and_burn_rates(seeded_store, open_page):
    at = open_page(seeded_store, "slos", slo="availability")
    (spec, frames), = charts(at)
    points = frames[-1]
    history = rows(seeded_store, "SELECT count(*) FROM slo_status_history WHERE model = 'fraud'")[0][0]
    assert len(points) == history and set(points["slo"]) == {"availability", "latency-p99", "accuracy"}
    stored = rows(seeded_store, "SELECT budget_remaining, sli FROM slo_status WHERE model = 'fraud' AND slo = 'availability'")[0]
    assert at.subheader[0].value.startswith("availability")  # the linked SLO comes first
    first = [(m.label, m.value) for m in at.metric][:5]  # the first SLO's five numbers
    assert first[0] == ("State", "firing") and first[1] == ("SLI", fmt.pct(stored[1], 3))
    assert first[2] == ("Budget left", fmt.pct(stored[0], 1)) and first[4] == ("Budget runs out in", "exhausted")
    assert len(at.metric) == 5 * 3  # every SLO shows its numbers
    rules = at.dataframe[0].value
    assert rules["long window burn"][0] == pytest.approx(100.0) and rules["state"][0] == "firing"


def test_shadow_shows_the_candidate_comparison_and_verdict(seeded_store, open_page):
    from shadow.report import shadow_report
    from store.engine import create_engine

    at = open_page(seeded_store, "shadow")
    s = seeded_store.seeded
    engine = create_engine(seeded_store.url)
    report = shadow_report(engine, s.monitors.model("fraud"), s.start, s.now).to_dict()["candidates"][0]
    engine.dispose()
    assert at.selectbox(key="mw_choice_candidate").value == s.candidate
    shown = metrics(at)
    assert shown["Agreement"] == fmt.pct(report["comparison"]["agreement"]["agreement"], 2)
    assert shown["Paired accuracy Δ"] == f"{100 * report['comparison']['accuracy']['difference']:+.2f} pp"
    verdict = report["verdict"]["decision"]
    assert any(f"Verdict: {verdict}" in text for text in texts(at))


def test_alerts_timeline_state_delivery_log_and_silences(seeded_store, open_page):
    at = open_page(seeded_store, "alerts")
    (spec, frames), = charts(at)
    assert "SLOBurnRate availability (page)" in set(frames[0]["alert"])
    state = at.dataframe[0].value
    assert ("SLOBurnRate", "page", "firing") in set(zip(state["alert"], state["severity"], state["state"]))
    tabs = [tab.label for tab in at.tabs]
    assert tabs == ["audit", "oncall"]
    oncall = rows(seeded_store, "SELECT count(*), sum(status = 'sent') FROM notifications WHERE receiver = 'oncall'")[0]
    logs = {tab.label: tab.dataframe[0].value for tab in at.tabs}
    assert len(logs["oncall"]) == oncall[0] and (logs["oncall"]["status"] == "sent").sum() == oncall[1] > 0
    assert set(logs["oncall"]["last response"].dropna()) == {200}
    assert 500 in set(logs["audit"]["last response"].dropna())  # the receiver that is down
    silences = at.dataframe[-1].value
    assert list(silences["matchers"]) == ['model="churn"'] and list(silences["state"]) == ["active"]


def test_silences_need_an_admin_token(seeded_store, open_page, tmp_path):
    store = seeded_store.copy(tmp_path / "copy.db")
    at = open_page(store, "alerts")
    create = next(b for b in at.button if b.label == "Create silence")
    create.click().run()
    assert any("Enter an admin token" in e.value for e in at.error)
    at.text_input(key="mw_admin_token").input(store.seeded.read_token).run()
    next(b for b in at.button if b.label == "Create silence").click().run()
    assert any("changing silences needs admin" in e.value for e in at.error)
    at.text_input(key="mw_admin_token").input(store.seeded.admin_token).run()
    next(b for b in at.button if b.label == "Create silence").click().run()
    assert any(s.value.startswith("Silence ") and "created" in s.value for s in at.success)
    created = rows(store, "SELECT id, matchers FROM silences WHERE comment = 'silenced from the dashboard'")
    assert len(created) == 1 and json.loads(created[0][1]) == ['model="fraud"']
    audit = rows(store, "SELECT actor FROM audit_log WHERE action = 'silence.create' ORDER BY id DESC LIMIT 1")
    assert audit[0][0] == "dashboard:dash-admin"
    expire = next(sb for sb in at.selectbox if sb.label == "Expire silence")
    expire.set_value(created[0][0]).run()
    next(b for b in at.button if b.label == "Expire now").click().run()
    assert any("expired" in s.value for s in at.success)
    assert rows(store, "SELECT expired_at IS NOT NULL FROM silences WHERE id = :id", id=created[0][0])[0][0] == 1


@pytest.mark.parametrize("page", ["overview", "oncall", "debug", "slos", "shadow", "alerts"])
def test_empty_store_pages_say_what_to_do(empty_store, seeded_store, open_page, page):
    at = open_page(None, page, url=empty_store, config=seeded_store.config, model="fraud")
    said = " ".join(texts(at))
    assert said and "Traceback" not in said
    expected = {"overview": "POST /v1/counters", "oncall": "POST /v1/counters", "debug": "POST /v1/labels",
                "slos": "scheduler evaluates SLOs", "shadow": "modelwatch shadow add", "alerts": "No alert for fraud"}
    assert expected[page] in said


def test_a_store_without_tables_and_bad_links_are_explained(tmp_path, seeded_store, open_page):
    at = open_page(None, "overview", url=f"sqlite:///{tmp_path / 'none.db'}", config=seeded_store.config,
                   model="nope", range="2y")
    said = " ".join(texts(at))
    assert "model 'nope' is not configured" in said and "range '2y' is not one of" in said
    assert "has no modelwatch tables yet" in said and "modelwatch db upgrade" in said


def test_the_selection_is_written_back_to_the_url(seeded_store, open_page):
    at = open_page(seeded_store, "oncall", version="v2")
    at.selectbox(key="mw_range").set_value("7d").run()
    assert at.query_params["range"] == "7d" and at.query_params["version"] == "v2"
    assert "from" not in at.query_params
    at.selectbox(key="mw_model").set_value("churn").run()
    assert at.query_params["model"] == "churn" and "version" not in at.query_params  # v2 is not churn's
    assert metrics(at)["Current version"] == "c1"
