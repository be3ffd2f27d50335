"""Pictures of training: the loss and score curves (:mod:`~ganzoo.viz.curves`), sample grids
and scatter plots (:mod:`~ganzoo.viz.grids`), the progress video (:mod:`~ganzoo.viz.video`),
the HTML report page (:mod:`~ganzoo.viz.report`), a sweep's page (:mod:`~ganzoo.viz.sweep_report`)
and the W&B Report (:mod:`~ganzoo.viz.wandb_report`)."""
