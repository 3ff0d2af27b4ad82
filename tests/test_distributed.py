"""The Dask path (``--scheduler``) gives the single-machine results: panel cells, ledger, counts, fit estimates.

Runs on a :class:`distributed.LocalCluster` of two in-process workers (one
thread each), so it needs no network and starts in about a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import backpain_analysis as bp
from backpain_analysis import mixed_engine as me
from backpain_analysis.cli import main
from backpain_analysis.contract import LEDGER_COLUMNS
from backpain_analysis.errors import DataError
from backpain_analysis.partitions import dataset_parts
from backpain_analysis.scale.fit import ClientStatistics, fit_on_cluster, range_statistics, refined
from backpain_analysis.scale.panel import load_on_cluster

distributed = pytest.importorskip("distributed")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0", silence_logs=40
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def single() -> tuple[bp.Dataset, pd.DataFrame]:
    dataset = bp.load(SAMPLE)
    return dataset, bp.weekly_panel(dataset)


def _text_frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_parts(frame: pd.DataFrame, folder: Path, names: list[str]) -> list[int]:
    """``frame`` cut into len(names) consecutive parts written as Parquet text columns; returns part sizes."""
    edges = np.linspace(0, len(frame), len(names) + 1).astype(int)
    for name, lo, hi in zip(names, edges[:-1], edges[1:], strict=True):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        part = frame.iloc[lo:hi]
        pq.write_table(pa.table({c: pa.array(part[c].tolist(), type=pa.string()) for c in part.columns}), target)
    return list(np.diff(edges))


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory) -> tuple[Path, dict[str, list[tuple[str, int]]]]:
    """data/sample with sessions in three hive-partitioned parts and outcomes in two, plus files that are not data."""
    root = tmp_path_factory.mktemp("partitioned")
    sessions, outcomes = _text_frame(SAMPLE / "sessions.csv"), _text_frame(SAMPLE / "outcomes.csv")
    session_names = ["batch=1/part-0.parquet", "batch=2/part-0.parquet", "batch=2/part-1.parquet"]
    outcome_names = ["part-00000.parquet", "part-00001.parquet"]
    sizes = {
        "sessions": list(zip([f"sessions/{n}" for n in session_names], _write_parts(sessions, root / "sessions", session_names), strict=True)),
        "outcomes": list(zip([f"outcomes/{n}" for n in outcome_names], _write_parts(outcomes, root / "outcomes", outcome_names), strict=True)),
    }
    (root / "sessions" / "_SUCCESS").write_text("")
    (root / "sessions" / "batch=1" / ".part-0.parquet.crc").write_bytes(b"\x00")
    clients = _text_frame(SAMPLE / "clients.csv").assign(notes="prefers mornings")  # free text: never carried
    sizes["clients"] = list(zip(["clients/region=all/part-0.parquet"], _write_parts(clients, root / "clients", ["region=all/part-0.parquet"]), strict=True))
    return root, sizes


def _global_rows(ledger: pd.DataFrame, sizes: dict[str, list[tuple[str, int]]]) -> pd.Series:
    """A cluster ledger's (file, row in part) as the row the same line has in the one-file table."""
    offset = {}
    for parts in sizes.values():
        start = 0
        for label, size in parts:
            offset[label] = start
            start += size
    return ledger["row"] + ledger["file"].map(offset).fillna(0).astype(int)


@pytest.mark.parametrize("ranges", [None, 7])
def test_panel_ledger_and_counts_equal_single_machine(client, single, ranges) -> None:
    dataset, panel = single
    loaded = load_on_cluster(SAMPLE, client, ranges=ranges)
    pd.testing.assert_frame_equal(loaded.panel(), panel, check_exact=True)
    pd.testing.assert_frame_equal(loaded.rejected[list(LEDGER_COLUMNS)], dataset.rejected)
    assert set(loaded.rejected["file"]) == {"sessions.csv", "outcomes.csv"}
    pd.testing.assert_frame_equal(loaded.counts(), dataset.counts())
    counts = loaded.counts()
    assert (counts["accepted"] + counts["rejected"] == counts["read"]).all()
    assert counts.loc["sessions", "rejected"] > 0


def test_partitioned_parquet_tables(client, single, partitioned) -> None:
    dataset, panel = single
    root, sizes = partitioned
    assert [p.label for p in dataset_parts(root)["sessions"]] == [label for label, _ in sizes["sessions"]]
    loaded = load_on_cluster(root, client)
    # hive keys: 'batch' an extra sessions column the panel does not use, 'region' a clients covariate
    pd.testing.assert_frame_equal(loaded.panel().drop(columns="region"), panel, check_exact=True)
    pd.testing.assert_frame_equal(loaded.clients.drop(columns="region"), dataset.clients)
    pd.testing.assert_frame_equal(loaded.counts(), dataset.counts())
    ledger = loaded.rejected
    assert ledger.loc[ledger["table"] == "sessions", "file"].str.startswith("sessions/batch=").all()
    assert (ledger["row"] >= 2).all()
    as_one_file = ledger.assign(row=_global_rows(ledger, sizes))[list(LEDGER_COLUMNS)]
    pd.testing.assert_frame_equal(as_one_file, dataset.rejected)


def test_hive_key_can_be_a_required_column(client, single, tmp_path) -> None:
    """A table partitioned by client_id (Spark's partitionBy) has no client_id in its files."""
    _, panel = single
    keys = sorted(panel["client_id"].unique())[:12]
    sessions, outcomes = _text_frame(SAMPLE / "sessions.csv"), _text_frame(SAMPLE / "outcomes.csv")
    for key, rows in sessions[sessions["client_id"].isin(keys)].groupby("client_id", sort=True):
        _write_parts(rows.drop(columns="client_id"), tmp_path / "sessions", [f"client_id={key}/part-0.parquet"])
    outcomes[outcomes["client_id"].isin(keys)].to_csv(tmp_path / "outcomes.csv", index=False)
    (tmp_path / "clients.csv").write_bytes((SAMPLE / "clients.csv").read_bytes())
    cells = load_on_cluster(tmp_path, client).panel()
    expected = panel[panel["client_id"].isin(keys)].reset_index(drop=True)
    assert cells["client_id"].tolist() == expected["client_id"].tolist()
    pd.testing.assert_frame_equal(cells, expected[cells.columns])


def test_a_table_as_both_file_and_folder_or_an_empty_folder_is_refused(tmp_path) -> None:
    (tmp_path / "sessions").mkdir()
    (tmp_path / "outcomes.csv").write_text("client_id,date,instrument,score\n")
    with pytest.raises(DataError, match="holds no .parquet files"):
        dataset_parts(tmp_path)
    (tmp_path / "sessions.csv").write_text("client_id,date,exercise\n")
    with pytest.raises(DataError, match="both a file"):
        dataset_parts(tmp_path)


def test_fit_statistics_and_estimates_equal_single_machine(client, single) -> None:
    _, panel = single
    fitted = fit_on_cluster(load_on_cluster(SAMPLE, client), "nprs", 1)
    reference = bp.fit_volume_model(panel, "nprs", 1)
    assert fitted.params["term"].tolist() == reference.params["term"].tolist()
    assert (fitted.n_obs, fitted.n_clients) == (reference.n_obs, reference.n_clients)
    # The statistics: per-client blocks equal exactly, cross-products to rounding.
    whole = range_statistics(panel, "nprs", 1)
    ids = np.sort(panel["client_id"].unique())
    halves = ClientStatistics.stack([range_statistics(panel[panel["client_id"].isin(part)], "nprs", 1) for part in np.array_split(ids, 2)])
    np.testing.assert_array_equal(halves.ztw, whole.ztw)
    np.testing.assert_allclose(halves.wtw, whole.wtw, rtol=1e-13, atol=1e-13 * np.abs(whole.wtw).max())
    # The estimates: the single-machine criterion's minimum (reached by the same Newton refinement) to 1e-8.
    deviance = me.ProfiledDeviance(whole.engine_statistics())
    beta = deviance.solution(refined(deviance, me.minimize_deviance(deviance))).beta
    np.testing.assert_allclose(fitted.params["estimate"], beta, rtol=0, atol=1e-8)
    # fit_volume_model itself: its BFGS stops up to ~1e-7 in theta short of that minimum (tolerance explained in docs/scale_out.md).
    np.testing.assert_allclose(fitted.params["estimate"], reference.params["estimate"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fitted.params["std_error"], reference.params["std_error"], rtol=1e-6)
    assert fitted.converged and fitted.to_dict().keys() == reference.to_dict().keys()


def test_fit_errors_match_single_machine(client) -> None:
    loaded = load_on_cluster(SAMPLE, client)
    with pytest.raises(DataError, match="no outcome 'vas' in this dataset; measured: nprs, odi, psfs"):
        fit_on_cluster(loaded, "vas", 1)
    with pytest.raises(DataError, match="lag must be a whole number of weeks, 0 or more"):
        fit_on_cluster(loaded, "nprs", -1)


def test_command_line_scheduler(client, single, tmp_path, capsys) -> None:
    address = client.scheduler.address
    assert main(["panel", str(SAMPLE), "--out", str(tmp_path / "cluster.csv"), "--scheduler", address]) == 0
    assert main(["panel", str(SAMPLE), "--out", str(tmp_path / "single.csv")]) == 0
    assert (tmp_path / "cluster.csv").read_bytes() == (tmp_path / "single.csv").read_bytes()
    capsys.readouterr()
    assert main(["fit", str(SAMPLE), "--outcome", "NPRS", "--json", "--scheduler", address]) == 0
    cluster = json.loads(capsys.readouterr().out)
    assert main(["fit", str(SAMPLE), "--outcome", "nprs", "--json"]) == 0
    reference = json.loads(capsys.readouterr().out)
    assert [e["term"] for e in cluster["effects"]] == [e["term"] for e in reference["effects"]]
    np.testing.assert_allclose([e["estimate"] for e in cluster["effects"]], [e["estimate"] for e in reference["effects"]], atol=1e-6)
    assert {k: v for k, v in cluster.items() if k != "effects"} == {k: v for k, v in reference.items() if k != "effects"}


def test_connect_local_and_an_unreachable_scheduler(monkeypatch) -> None:
    from backpain_analysis.scale import cluster

    with cluster.connect("local", n_workers=1, processes=False) as local:
        assert len(local.scheduler_info()["workers"]) == 1
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 0.5)
    with pytest.raises(DataError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with cluster.connect("tcp://127.0.0.1:9"):
            pass
