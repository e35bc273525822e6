"""The production loop's side of GitHub: one issue per environment, the retraining pull request, dispatch.

``client`` speaks GitHub's REST API (httpx); ``issues``, ``pulls`` and ``dispatch`` hold the decisions;
``cli`` is the thin shell behind ``mlship github ...``. Nothing here runs at import time.
"""
