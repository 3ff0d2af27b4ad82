"""Scale-out on a Dask cluster: ``--scheduler`` of ``backpain panel`` and ``backpain fit`` (docs/scale_out.md).

- :func:`~backpain_analysis.scale.cluster.connect`: a client for a scheduler
  address, or a :class:`distributed.LocalCluster` for ``local``;
- :func:`~backpain_analysis.scale.panel.load_on_cluster`: row rules and ledger
  per part on the workers, the weekly panel per client range;
- :func:`~backpain_analysis.scale.fit.fit_on_cluster`: the volume model from
  per-client sufficient statistics computed on the workers.
"""

from backpain_analysis.scale.cluster import connect
from backpain_analysis.scale.fit import ClusterFit, fit_on_cluster
from backpain_analysis.scale.panel import ClusterDataset, load_on_cluster

__all__ = ["ClusterDataset", "ClusterFit", "connect", "fit_on_cluster", "load_on_cluster"]
