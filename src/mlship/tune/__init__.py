"""``mlship tune``: a hyper-parameter search on the training split only, recorded, proposed as a pull request.

``space`` turns ``tune.space`` into scikit-learn's sampling distributions, ``search`` runs successive halving
with cross-validation, ``record`` writes ``reports/tune.{json,md}``, ``apply`` writes the chosen values into
``params.yaml``, and ``command`` is the thin CLI around them.
"""
