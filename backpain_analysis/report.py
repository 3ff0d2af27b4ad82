"""The one-command report: run every notebook on a dataset, collect what they made.

``build_report(data, out)`` executes ``notebooks/*.ipynb`` in name order with
papermill, in a kernel running this very interpreter, and writes into ``out``::

    report.html          every notebook in one page, code hidden, images
                         embedded, no script or style fetched from the network
    notebooks/NN_*.ipynb the executed notebooks (timestamps removed)
    figures/NAME.png     each figure, and figures/NAME.svg
    tables/NAME.csv      each table
    summary.json         the studio's questions answered (CONTRACT section 4),
                         written by the first notebook (:mod:`backpain_analysis.summary`)
    manifest.json        dataset files, notebooks, figures (name, caption,
                         notebook and library function) and tables, each file
                         with its sha256; the summary's entry also gives how
                         its intervals were made (``level``, ``family_level``,
                         ``family_size``: :meth:`~backpain_analysis.summary.Summary.intervals`)

The same input gives the same bytes in every file. The report is built in a
hidden sibling folder and moved into place only when every notebook ran, so a
failed or interrupted run leaves no partial report; build folders that
interrupted runs (SIGTERM, SIGKILL) left behind are removed by the next run.
An existing ``out`` is replaced only with ``force=True`` and only when it is
an earlier report (it holds ``manifest.json``); anything else is refused.

This is the runner, imported only by the command line: notebooks import
:mod:`backpain_analysis.notebook`, so a kernel never imports zmq or
jupyter_client. The HTML page carries a Content-Security-Policy that forbids
every script; user text that notebooks print goes through
:func:`backpain_analysis.narrative.literal` first.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import zmq
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from traitlets import default

from backpain_analysis.errors import DataError
from backpain_analysis.figures.export import REGISTRY, read_registry
from backpain_analysis.narrative import literal
from backpain_analysis.summary import INTERVAL_KEYS, SUMMARY_FILE

if TYPE_CHECKING:
    from nbformat import NotebookNode
    from papermill import PapermillExecutionError

NOTEBOOK_DIR: Path = Path(__file__).resolve().parent / "notebooks"
"""The project's notebooks (shipped inside the package), run in name order."""

TITLE: str = "Back-pain exercise programs: outcomes report"

MANIFEST = "manifest.json"
CSP: str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; script-src 'none'; base-uri 'none'; form-action 'none'"
"""Content-Security-Policy of report.html: no script of any kind, images only embedded."""


class ReportError(Exception):
    """A notebook failed for a reason other than the data (a bug): its own exit status, not 2."""

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
{%- block html_head_js -%}<meta http-equiv="Content-Security-Policy" content="{CSP}">{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>main { max-width: 1100px; margin: 0 auto; }
figcaption { font-size: 0.9em; margin-top: 0.3em; }</style>{% endblock extra_css %}
""".replace("{CSP}", CSP)


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
    """The notebooks a report runs, sorted by name: every ``NN_*.py`` (jupytext percent) and ``*.ipynb`` in ``folder``.

    A stem present in both forms (a jupytext pair) runs once, from its ``.ipynb``.
    """
    folder = Path(folder)
    notebooks = {p.stem: p for p in folder.glob("*.py") if p.name[:1].isdigit()}
    notebooks.update({p.stem: p for p in folder.glob("*.ipynb")})
    if not notebooks:
        raise ReportError(f"no notebooks in {folder}")
    return [notebooks[stem] for stem in sorted(notebooks)]


def _as_ipynb(source: Path, target: Path) -> None:
    """Write ``source`` (a percent script or a notebook) as the notebook ``target``, with this kernel's spec."""
    import jupytext
    import nbformat

    nb = jupytext.read(source) if source.suffix == ".py" else nbformat.read(source, as_version=4)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.pop("jupytext", None)
    for number, cell in enumerate(nb.cells, start=1):
        cell.id = f"{re.sub(r'[^A-Za-z0-9_-]', '_', source.stem)[:50]}-{number}"
    nbformat.write(nb, target)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_entry(root: Path, relative: str) -> dict[str, str]:
    return {"path": relative, "sha256": _sha256(root / relative)}


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip()]
    return lines[0].strip() if lines else ""


def _failure(notebook: Path, executed: Path, error: PapermillExecutionError) -> DataError | ReportError:
    """One line naming the notebook, the failing cell (number among its cells, first line) and the error.

    A :class:`DataError` raised in the notebook (the data cannot be used)
    stays a DataError; any other exception is a :class:`ReportError`.
    """
    import nbformat

    cell_number, first = error.cell_index, ""
    if executed.exists():
        added = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill inserted
        cells = [c for c in nbformat.read(executed, as_version=4).cells if not added & set(c.metadata.get("tags", []))]
        for number, cell in enumerate(cells, start=1):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                cell_number, first = number, _first_line(cell.source)
    evalue = _first_line(str(error.evalue))
    if error.ename == "DataError":
        return DataError(f"{evalue} (notebook {notebook.name}, cell {cell_number})")
    return ReportError(
        f"notebook {notebook.name} failed in cell {cell_number} ({first!r}): {error.ename}: {evalue} "
        "- this is a bug in the report, not in your data; please report it with this line"
    )


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


def _execute_all(sources: list[Path], folder: Path, parameters: dict[str, object]) -> list[tuple[Path, int]]:
    """Run every notebook, in order, in one kernel whose working directory is ``folder``.

    One kernel saves starting Python and importing the scientific stack once
    per notebook. Its linear algebra runs on one thread: a threaded BLAS may
    sum in a different order from run to run, and the report must not change
    in its last bits. Between notebooks the user namespace is wiped (``%reset
    -f``), so a notebook cannot lean on names left by the one before, and
    execution counts are renumbered from 1 in each executed notebook.
    Returns each executed notebook with the number of registry records
    (figures and tables saved) after it ran.
    """
    import papermill

    km = _ThisInterpreterKernel()
    km.start_kernel(cwd=str(folder), env={**os.environ, **_ONE_THREAD})
    try:
        executed = []
        for source in sources:
            target = folder / f"{source.stem}.ipynb"
            _as_ipynb(source, target)
            try:
                papermill.execute_notebook(
                    str(target),
                    str(target),
                    parameters=parameters,
                    kernel_name="python3",
                    language="python",
                    km=km,
                    progress_bar=False,
                    log_output=False,
                )
            except papermill.PapermillExecutionError as error:
                if error.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel first
                    raise KeyboardInterrupt from error
                raise _failure(source, target, error) from error
            _forget_names(km)
            _strip_run_metadata(target)
            executed.append((target, len(read_registry(folder.parent))))
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
    """One HTML page holding every executed notebook, code cells and standard-error output hidden.

    Library warnings a notebook did not turn into a sentence (through
    :class:`~backpain_analysis.notebook.Attempts`) would show as raw text with
    file paths; they stay in the executed notebooks for a researcher and never
    reach the page.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    titles = [_title(nbformat.read(p, as_version=4), p) for p in executed]
    contents = "\n".join(f'- <a href="#{html.escape(t.replace(" ", "-"))}">{html.escape(t)}</a>' for t in titles)
    opening = (
        f"# {TITLE}\n\nDataset: {literal(dataset_name)}. Each section below is one notebook of the project, "
        f"run top to bottom on this dataset; the code is hidden here and kept in the executed notebooks "
        f"(`notebooks/`). Figures are also saved as PNG and SVG in `figures/`, tables as CSV in `tables/`, "
        f"`summary.json` holds the summary's answers, and `manifest.json` lists every file with its checksum.\n\n{contents}"
    )
    merged = nbformat.v4.new_notebook(metadata={"title": TITLE})
    merged.cells.append(nbformat.v4.new_markdown_cell(opening, id="report-contents"))
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        for key in ("kernelspec", "language_info"):
            if key in nb.metadata:
                merged.metadata.setdefault(key, nb.metadata[key])
        for cell in nb.cells:
            if {"parameters", "injected-parameters"} & set(cell.metadata.get("tags", [])):
                continue
            if cell.cell_type == "code":  # standard error (a library's raw warning) stays in the executed notebook only
                cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            merged.cells.append(cell)
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


def _manifest(build: Path, data: Path, executed: list[tuple[Path, int]]) -> dict[str, object]:
    records = read_registry(build)
    names: dict[tuple[str, str], int] = {}
    for record in records:
        key = (str(record["kind"]), str(record["name"]))
        names[key] = names.get(key, 0) + 1
    twice = sorted(f"{kind} {name!r}" for (kind, name), n in names.items() if n > 1)
    if twice:
        raise ReportError(f"the notebooks saved {', '.join(twice)} more than once: give each a unique name")
    (build / REGISTRY).unlink(missing_ok=True)
    data_files = sorted(p for p in data.iterdir() if p.is_file() and p.suffix.lower() in _DATA_SUFFIXES)
    made_by, start = [], 0
    for path, end in executed:
        made_by += [str(path.relative_to(build))] * (end - start)
        start = end

    def items(kind: str) -> list[dict[str, object]]:
        listed = []
        for record, notebook in zip(records, made_by):
            if record["kind"] != kind:
                continue
            item = {"name": record["name"], "caption": record["caption"], "notebook": notebook}
            if kind == "figure":
                item["function"] = record.get("function")
            item["files"] = [_file_entry(build, f) for f in record["files"]]
            listed.append(item)
        return listed

    summary = None
    if (build / SUMMARY_FILE).exists():
        levels = next((r for r in records if r["kind"] == "summary"), {})
        summary = {**_file_entry(build, SUMMARY_FILE), **{key: levels.get(key) for key in INTERVAL_KEYS}}
    return {
        "title": TITLE,
        "dataset": [{"path": p.name, "sha256": _sha256(p)} for p in data_files],
        "report": _file_entry(build, "report.html"),
        "summary": summary,
        "notebooks": [_file_entry(build, str(p.relative_to(build))) for p, _ in executed],
        "figures": items("figure"),
        "tables": items("table"),
    }


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:building|old)-(?P<pid>\d+)-[0-9a-f]{8}$")


def _remove_leftovers(out: Path) -> None:
    """Remove build folders of earlier runs into ``out`` whose process no longer runs."""
    if not out.parent.is_dir():
        return
    for path in out.parent.iterdir():
        match = _LEFTOVER.match(path.name)
        if not match or match["name"] != out.name or not path.is_dir():
            continue
        pid = int(match["pid"])
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        if not alive:
            shutil.rmtree(path, ignore_errors=True)


def _check_out(out: Path, force: bool) -> None:
    """Refuse an ``out`` that exists, unless ``force`` and it is an earlier report (or an empty folder)."""
    if not out.exists() and not out.is_symlink():
        return
    if out.is_dir() and not out.is_symlink() and not any(out.iterdir()):
        return
    if out.is_dir() and not out.is_symlink() and (out / MANIFEST).is_file():
        if force:
            return
        raise DataError(f"{out} holds an earlier report: pass --force to replace it, or choose another --out")
    raise DataError(
        f"{out} exists and is not a report (no {MANIFEST} in it): nothing was changed; choose another --out "
        "(--force replaces only an earlier report)"
    )


def _move_into_place(build: Path, out: Path, force: bool) -> None:
    _check_out(out, force)
    if not out.exists():
        os.replace(build, out)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
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
        The report folder to create. Its parent is created if missing; an
        existing empty folder is used.
    force:
        Replace ``out`` if it holds an earlier report (``manifest.json``); the
        old report stays intact until the new one is complete. Anything else
        at ``out`` is refused, with or without ``force``.
    real_ids:
        Show real client keys in figures and tables instead of the stable
        pseudonyms of :mod:`backpain_analysis.pseudonyms`.
    notebooks:
        Folder of notebooks to run (the package's by default).

    Each notebook receives the papermill parameters ``data_path`` (the
    dataset, relative to the notebook's folder), ``out_dir`` (``".."``: the
    report folder) and ``real_ids``, and runs with its own folder as working
    directory, so an executed notebook can be re-run where it lies.

    Returns
    -------
    :class:`Report`. Raises :class:`~backpain_analysis.errors.DataError`
    (one line) when the dataset or ``out`` cannot be used, and
    :class:`ReportError` naming the notebook and cell when a notebook fails
    for another reason; nothing is left behind then.
    """
    started = time.perf_counter()
    data, out = Path(data).resolve(), Path(out).resolve()
    if not data.is_dir():
        raise DataError(f"dataset folder {data.name} does not exist")
    if out == data or out in data.parents:
        raise DataError("--out must not be the dataset folder or one of its parents")
    _check_out(out, force)
    sources = notebook_paths(notebooks)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    build = out.parent / f".{out.name}.building-{os.getpid()}-{secrets.token_hex(4)}"
    build.mkdir()
    try:
        (build / "notebooks").mkdir()
        parameters = {
            "data_path": os.path.relpath(data, out / "notebooks"),
            "out_dir": "..",
            "real_ids": real_ids,
        }
        executed = _execute_all(sources, build / "notebooks", parameters)
        (build / "report.html").write_text(_html([p for p, _ in executed], data.name), encoding="utf-8")
        manifest = _manifest(build, data, executed)
        (build / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _move_into_place(build, out, force)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return Report(out, manifest, time.perf_counter() - started)
