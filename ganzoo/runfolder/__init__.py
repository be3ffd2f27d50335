"""The run folder: what a run leaves on disk and how each file is written and read back
(its paths in :mod:`~ganzoo.runfolder.layout`, with a sweep folder's beside them).

Checkpoints (:mod:`~ganzoo.runfolder.checkpoints`), ``weights.pt`` (:mod:`~ganzoo.runfolder.weights`),
JSON-lines logs (:mod:`~ganzoo.runfolder.jsonl`, and :class:`~ganzoo.runfolder.step_log.StepLog`
for a callback's own), the samples of ``data.limit`` (:mod:`~ganzoo.runfolder.subset`), and
the lock that keeps two processes out of one folder (:mod:`~ganzoo.runfolder.lock`). Every write goes through :mod:`ganzoo.files.safe`.
"""
