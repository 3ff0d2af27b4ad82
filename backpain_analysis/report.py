"""The one-command report: run every notebook on a dataset, collect what they made.

``build_report(data, out)`` executes ``notebooks/*.ipynb`` in name order with
papermill, in a kernel running this very interpreter, and writes into ``out``::

    report.html          every notebook in one page, code hidden, images
                         embedded, no script or style fetched from the network
    notebooks/NN_*.ipynb the executed notebooks (timestamps removed)
    figures/NAME.png     each figure, and figures/NAME.svg
    tables/NAME.csv      each table
    manifest.json        dataset files, notebooks, figures (name, caption) and
                         tables, each file with its sha256

The same input gives the same bytes in every file. The report is built in a
hidden sibling folder and moved into place only when every notebook ran, so a
failed or interrupted run leaves no partial report; an existing ``out`` is
replaced only with ``force=True``.

Notebooks import :func:`notebook_inputs` from here, so the notebook machinery
(nbformat, papermill, nbconvert: seconds to import) is imported only by the
functions that build a report, never by a notebook's kernel.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import zmq
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from traitlets import default

from backpain_analysis.dataset import Dataset
from backpain_analysis.errors import DataError
from backpain_analysis.figures.export import REGISTRY, read_registry
from backpain_analysis.instruments import builtin_instruments
from backpain_analysis.loading import load
from backpain_analysis.panel import weekly_panel
from backpain_analysis.pseudonyms import pseudonym_map, pseudonymize, pseudonymize_ledger

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from papermill import PapermillExecutionError

NOTEBOOK_DIR: Path = Path(__file__).resolve().parent.parent / "notebooks"
"""The project's notebooks, run in name order."""

TITLE: str = "Back-pain exercise programs: outcomes report"

T = TypeVar("T")

_DATA_SUFFIXES = {".csv", ".parquet", ".xlsx"}
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class _ThisInterpreterSpecs(KernelSpecManager):
    """Kernel specs that always name this interpreter, whatever is installed elsewhere."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


class _ThisInterpreterKernel(KernelManager):
    """A kernel manager that starts ``sys.executable -m ipykernel_launcher``.

    Kernel traffic is encrypted (CurveZMQ) when pyzmq supports it.
    """

    @default("kernel_spec_manager")
    def _default_specs(self) -> KernelSpecManager:
        return _ThisInterpreterSpecs(parent=self)

    @default("transport_encryption")
    def _default_encryption(self) -> str:
        return "auto" if zmq.has("curve") else "disabled"


_HTML_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>main { max-width: 1100px; margin: 0 auto; }
figcaption { font-size: 0.9em; margin-top: 0.3em; }</style>{% endblock extra_css %}
"""


PRIMARY_ORDER: tuple[str, ...] = ("nprs", "vas", "odi", "rmdq", "psfs")
"""The main outcome of a report is the first of these that the dataset measures."""


@dataclass(frozen=True)
class NotebookInputs:
    """What every notebook starts from.

    Attributes
    ----------
    dataset: the loaded dataset, client keys replaced by pseudonyms unless real ids were asked for.
    panel: its weekly panel (same keys).
    outcomes: instruments measured, built-in ones first in the order of
        ``data/instruments.csv``, then custom ones alphabetically.
    primary: the main outcome (first of :data:`PRIMARY_ORDER` measured), or None.
    """

    dataset: Dataset
    panel: pd.DataFrame
    outcomes: list[str]
    primary: str | None


def notebook_inputs(data_path: str | Path, real_ids: bool = False) -> NotebookInputs:
    """Load ``data_path``, build the weekly panel, and hide client keys.

    With ``real_ids=False`` (the default) every ``client_id`` in the dataset's
    tables and the panel becomes its stable pseudonym
    (:mod:`backpain_analysis.pseudonyms`), one mapping for all tables, and
    client keys quoted in the rejected ledger are replaced too.
    """
    dataset = load(data_path)
    if not real_ids:
        mapping = pseudonym_map(
            pd.concat([t["client_id"] for t in (dataset.sessions, dataset.outcomes, dataset.clients) if "client_id" in t])
        )
        tables = {
            name: pseudonymize(getattr(dataset, name), mapping)
            for name in ("sessions", "outcomes", "clients")
            if "client_id" in getattr(dataset, name)
        }
        dataset = replace(dataset, rejected=pseudonymize_ledger(dataset.rejected, mapping), **tables)
    panel = weekly_panel(dataset)
    measured = set(dataset.outcomes["instrument"].astype(str))
    builtin = [name for name in builtin_instruments()["name"] if name in measured]
    outcomes = builtin + sorted(measured - set(builtin))
    primary = next((name for name in PRIMARY_ORDER if name in measured), None)
    return NotebookInputs(dataset, panel, outcomes, primary)


class Attempts:
    """Run a notebook's analyses so that a data problem becomes a sentence, not an error.

    ``attempts("volume model", fit_volume_model, panel, "nprs")`` returns the
    fit, or None after noting ``("volume model", reason)`` in ``problems``
    when the analysis raises :class:`~backpain_analysis.errors.DataError`
    (too few clients, an absent instrument). Any other exception propagates:
    it is a bug, and the report must fail on it.
    """

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def __call__(self, what: str, analysis: Callable[..., T], *args: object, **kwargs: object) -> T | None:
        try:
            return analysis(*args, **kwargs)
        except DataError as error:
            self.problems.append((what, str(error)))
            return None

    def notes(self) -> str:
        """One Markdown line per analysis not estimated, with its reason."""
        return "\n\n".join(f"Not estimated — {what}: {why}." for what, why in self.problems)


@dataclass(frozen=True)
class Report:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    path: the report folder.
    manifest: the content of ``manifest.json``.
    seconds: wall-clock time the build took (not written to any file).
    """

    path: Path
    manifest: dict[str, object]
    seconds: float


def notebook_paths(folder: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """The notebooks a report runs: ``folder/*.ipynb`` sorted by name."""
    paths = sorted(Path(folder).glob("*.ipynb"))
    if not paths:
        raise DataError(f"no notebooks in {folder}")
    return paths


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_entry(root: Path, relative: str) -> dict[str, str]:
    return {"path": relative, "sha256": _sha256(root / relative)}


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _failure(notebook: Path, executed: Path, error: PapermillExecutionError) -> DataError:
    """One line naming the notebook, the failing cell (number among its cells, first line) and the error."""
    import nbformat

    cell_number, first = error.cell_index, ""
    if executed.exists():
        added = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill inserted
        cells = [c for c in nbformat.read(executed, as_version=4).cells if not added & set(c.metadata.get("tags", []))]
        for number, cell in enumerate(cells, start=1):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                cell_number, first = number, _first_line(cell.source)
    evalue = _first_line(str(error.evalue))
    return DataError(f"notebook {notebook.name} failed in cell {cell_number} ({first!r}): {error.ename}: {evalue}")


def _strip_run_metadata(path: Path) -> None:
    """Remove what changes from run to run (timestamps, durations), number cells from 1."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    run = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {k: run[k] for k in ("parameters", "default_parameters") if k in run}
    counts = [c.execution_count for c in nb.cells if c.get("execution_count")]
    offset = min(counts) - 1 if counts else 0
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill draws a random id
        if cell.get("execution_count"):
            cell.execution_count -= offset
            for output in cell.outputs:
                if output.get("execution_count"):
                    output.execution_count -= offset
    nbformat.write(nb, path)


def _execute_all(sources: list[Path], folder: Path, parameters: dict[str, object]) -> list[Path]:
    """Run every notebook, in order, in one kernel whose working directory is ``folder``.

    One kernel saves starting Python and importing the scientific stack once
    per notebook. Its linear algebra runs on one thread: a threaded BLAS may
    sum in a different order from run to run, and the report must not change
    in its last bits. Between notebooks the user namespace is wiped (``%reset
    -f``), so a notebook cannot lean on names left by the one before, and
    execution counts are renumbered from 1 in each executed notebook.
    """
    import papermill

    km = _ThisInterpreterKernel()
    km.start_kernel(cwd=str(folder), env={**os.environ, **_ONE_THREAD})
    try:
        executed = []
        for source in sources:
            target = folder / source.name
            try:
                papermill.execute_notebook(
                    str(source),
                    str(target),
                    parameters=parameters,
                    kernel_name="python3",
                    language="python",
                    km=km,
                    progress_bar=False,
                    log_output=False,
                )
            except papermill.PapermillExecutionError as error:
                raise _failure(source, target, error) from error
            _forget_names(km)
            _strip_run_metadata(target)
            executed.append(target)
        return executed
    finally:
        km.shutdown_kernel(now=True)


def _forget_names(km: KernelManager) -> None:
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive("get_ipython().run_line_magic('reset', '-f')", store_history=False, timeout=60)
    finally:
        client.stop_channels()


def _html(executed: list[Path], dataset_name: str) -> str:
    """One HTML page holding every executed notebook, code cells hidden."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    titles = [_title(nbformat.read(p, as_version=4), p) for p in executed]
    contents = "\n".join(f'- <a href="#{html.escape(t.replace(" ", "-"))}">{html.escape(t)}</a>' for t in titles)
    opening = (
        f"# {TITLE}\n\nDataset: `{dataset_name}`. Each section below is one notebook of the project, "
        f"run top to bottom on this dataset; the code is hidden here and kept in the executed notebooks "
        f"(`notebooks/`). Figures are also saved as PNG and SVG in `figures/`, tables as CSV in `tables/`, "
        f"and `manifest.json` lists every file with its checksum.\n\n{contents}"
    )
    merged = nbformat.v4.new_notebook(metadata={"title": TITLE})
    merged.cells.append(nbformat.v4.new_markdown_cell(opening, id="report-contents"))
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        merged.metadata.setdefault("kernelspec", nb.metadata.get("kernelspec", {}))
        merged.metadata.setdefault("language_info", nb.metadata.get("language_info", {}))
        merged.cells.extend(c for c in nb.cells if not {"parameters", "injected-parameters"} & set(c.metadata.get("tags", [])))
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"report.html.j2": _HTML_TEMPLATE})],
        template_file="report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": TITLE}})
    return body


def _title(nb: NotebookNode, path: Path) -> str:
    """The notebook's first markdown heading, else its file name."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("#"):
            return cell.source.lstrip().splitlines()[0].lstrip("#").strip()
    return path.stem


def _manifest(build: Path, data: Path, executed: list[Path]) -> dict[str, object]:
    records = read_registry(build)
    names: dict[tuple[str, str], int] = {}
    for record in records:
        key = (str(record["kind"]), str(record["name"]))
        names[key] = names.get(key, 0) + 1
    twice = sorted(f"{kind} {name!r}" for (kind, name), n in names.items() if n > 1)
    if twice:
        raise DataError(f"the notebooks saved {', '.join(twice)} more than once: give each a unique name")
    (build / REGISTRY).unlink(missing_ok=True)
    data_files = sorted(p for p in data.iterdir() if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES)

    def items(kind: str) -> list[dict[str, object]]:
        return [
            {"name": r["name"], "caption": r["caption"], "files": [_file_entry(build, f) for f in r["files"]]}
            for r in records
            if r["kind"] == kind
        ]

    return {
        "title": TITLE,
        "dataset": [{"path": p.name, "sha256": _sha256(p)} for p in data_files],
        "report": _file_entry(build, "report.html"),
        "notebooks": [_file_entry(build, str(p.relative_to(build))) for p in executed],
        "figures": items("figure"),
        "tables": items("table"),
    }


def _move_into_place(build: Path, out: Path, force: bool) -> None:
    if not out.exists():
        os.replace(build, out)
        return
    if not force:
        raise DataError(f"{out} already exists: pass --force to replace it, or choose another --out")
    old = out.parent / f".{out.name}.old-{secrets.token_hex(4)}"
    os.replace(out, old)
    os.replace(build, out)
    shutil.rmtree(old)


def build_report(
    data: str | Path,
    out: str | Path,
    *,
    force: bool = False,
    real_ids: bool = False,
    notebooks: str | Path = NOTEBOOK_DIR,
) -> Report:
    """Execute every notebook on ``data`` and write the report folder ``out``.

    Parameters
    ----------
    data:
        A dataset folder (CONTRACT section 1).
    out:
        The report folder to create. Its parent is created if missing.
    force:
        Replace ``out`` if it exists (the old report stays intact until the new
        one is complete). Without it an existing ``out`` is an error.
    real_ids:
        Show real client keys in figures and tables instead of the stable
        pseudonyms of :mod:`backpain_analysis.pseudonyms`.
    notebooks:
        Folder of notebooks to run (the project's by default).

    Each notebook receives the papermill parameters ``data_path`` (the
    dataset, relative to the notebook's folder), ``out_dir`` (``".."``: the
    report folder) and ``real_ids``, and runs with its own folder as working
    directory, so an executed notebook can be re-run where it lies.

    Returns
    -------
    :class:`Report`. Raises :class:`~backpain_analysis.errors.DataError` with
    one line naming the notebook and cell when a notebook fails; nothing is
    left behind then.
    """
    started = time.perf_counter()
    data, out = Path(data).resolve(), Path(out).resolve()
    if not data.is_dir():
        raise DataError(f"dataset folder {data} does not exist")
    if out.exists() and not force:
        raise DataError(f"{out} already exists: pass --force to replace it, or choose another --out")
    sources = notebook_paths(notebooks)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = out.parent / f".{out.name}.building-{secrets.token_hex(4)}"
    build.mkdir()
    try:
        (build / "notebooks").mkdir()
        parameters = {
            "data_path": os.path.relpath(data, out / "notebooks"),
            "out_dir": "..",
            "real_ids": real_ids,
        }
        executed = _execute_all(sources, build / "notebooks", parameters)
        (build / "report.html").write_text(_html(executed, data.name), encoding="utf-8")
        manifest = _manifest(build, data, executed)
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _move_into_place(build, out, force)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return Report(out, manifest, time.perf_counter() - started)
