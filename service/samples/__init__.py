"""Divergences estimated from two samples: x drawn from P, y from Q (issue 15, part 1).

Pure estimators over arrays (``parsing``, ``binning``, ``knn``, ``distances``,
``resampling``), their registry (``estimators``) and the HTTP layer (``schemas``, ``routes``).
"""
