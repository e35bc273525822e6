"""``mlship init``: adopt a tabular data file.

Reads the file, drafts ``schema.yaml`` from it (column kinds, ranges, categories, nullability, the target's
task and labels), points ``params.yaml`` at it and resets the settings that only fit the previous data to
documented generic defaults (:mod:`mlship.adopt.defaults`), and rewrites ``tests/facts.yaml``.

Modules: :mod:`~mlship.adopt.reading` (the file as text, as the pipeline will read it),
:mod:`~mlship.adopt.inference` (pure: frame -> schema), :mod:`~mlship.adopt.defaults` (every generic value
and why), :mod:`~mlship.adopt.facts` (the dataset facts the tests check), :mod:`~mlship.adopt.writing`
(rendering and atomic, comment-preserving writes), :mod:`~mlship.adopt.command` (the thin ``run``).
"""
