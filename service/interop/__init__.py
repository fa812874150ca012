"""Interoperability: other protocols in front of the same scoring (the Open Inference
Protocol, KServe V2 / Triton, in :mod:`service.interop.v2`)."""
