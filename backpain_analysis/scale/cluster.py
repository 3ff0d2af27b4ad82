"""Connecting to a Dask distributed cluster: ``--scheduler ADDRESS`` or ``local`` (CONTRACT section 4).

``local`` starts a :class:`distributed.LocalCluster` on this machine (one
worker process per core by default, its dashboard on a free port, only its errors logged) and stops it afterwards;
any other address (``tcp://host:8786``) connects to a running scheduler,
whose workers must have this package installed (the same version) and see
the dataset folder at the same path (docs/scale_out.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from backpain_analysis.errors import DataError

CONNECT_TIMEOUT_S: float = 30.0
"""Seconds to wait for a remote scheduler to answer."""


@contextmanager
def connect(address: str, **local_options: Any) -> Iterator[Any]:
    """A :class:`distributed.Client` for ``address``, closed (and a local cluster stopped) on exit.

    Parameters
    ----------
    address:
        ``local``, or a scheduler address such as ``tcp://10.0.0.5:8786``.
    local_options:
        Passed to :class:`distributed.LocalCluster` for ``local``
        (``n_workers``, ``threads_per_worker``, ``processes``, ``memory_limit``).

    Raises
    ------
    DataError
        When the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if address.strip().lower() == "local":
        options = {"dashboard_address": None, "silence_logs": logging.ERROR, **local_options}
        with LocalCluster(**options) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as error:
        raise DataError(f"cannot reach the Dask scheduler at {address} ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no answer'})") from None
    with client:
        yield client
