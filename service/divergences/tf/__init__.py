"""The divergences in TensorFlow, for batches, one purpose per module:

- :mod:`.kernels`: each divergence's fused body, and the public kernels (``kl``, ``js``,
  ...: the names of the numpy formulas);
- :mod:`.engine`: how a batch runs (:class:`~.engine.BatchKernel`: one graph for small
  batches, XLA-compiled chunks for large ones, the compile cache and its budget, rows
  marked for numpy);
- :mod:`.chunks`: how a large batch is cut into chunks and handed to XLA in place (DLPack);
- :mod:`.fast_log`: the logarithm of the compiled chunks.

Importing this package alone does not import TensorFlow; importing any of its modules
does. The service imports :mod:`.kernels` when a batch kernel is first used (or at
start-up, off the request path), never on the single-pair path.
"""
