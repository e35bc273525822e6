"""Serving: the request contract, the compiled predictor and the BentoML model store."""
