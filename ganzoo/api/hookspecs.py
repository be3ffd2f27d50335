"""The hook specifications: the whole contract between ganzoo and its plugins, in one file.

Every hook has the same shape: ganzoo passes a ``register`` callable and the plugin calls it
once per component class it provides. A component is a class with a ``name`` (unique within
its kind), a nested pydantic ``Options`` model (a subclass of :class:`ganzoo.Options`) and a
docstring whose first line ``ganzoo plugins`` prints. ``register`` checks the class on the
spot: a subclass of the hook's base class, a non-empty ``name``, a pydantic ``Options``;
anything else raises :class:`ganzoo.GanzooError` naming the plugin.

Why registration instead of hooks that *build* things: installing a plugin only makes its
components *available*; a recipe decides which are *active*. The registry can therefore list,
document and validate every component without constructing any of them, and the trainer
never talks to pluggy at all. Only the registry (:mod:`ganzoo.plugins.registry`) calls hooks.

Implementations may accept fewer arguments than a spec names (pluggy allows it), so a new
argument can be added to a spec later without breaking any plugin. ganzoo always calls hooks
with keyword arguments. A function named like a hook without ``@ganzoo.hookimpl``, or a
marked one that matches no spec, is an error when the plugins load, not silence.

Each docstring below says what the base class requires, when ganzoo calls each method and
where the details are; docs/hooks.md has examples of every hook.
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")

Register = Callable[[type], None]


@hookspec
def register_architectures(register: Register) -> None:
    """Register :class:`ganzoo.Architecture` classes: a generator, a discriminator and the
    latent distribution they are trained with; a recipe picks one under ``model:``.

    Required: ``build_generator(data_info)`` and ``build_discriminator(data_info)`` return
    ``nn.Module`` s sized from a :class:`ganzoo.DataInfo`, called once per run after seeding,
    G first; ``sample_latent(n, device=, generator=None)`` draws latents for every update and,
    with its own ``generator``, for the fixed-noise grids. G is called ``G(z, condition)`` and
    returns samples in the model range; D is called ``D(x, condition)`` and returns what the
    paired loss expects. Optional: ``latent_codes``/``vary_code`` (``ganzoo sample --vary``),
    ``conditional`` (G honours class labels), ``accepts``/``discriminator_output``
    (compatibility declarations), ``capturable`` (CUDA graph capture),
    ``parameter_groups(network)`` (parameters at their own share of the learning rate,
    read when the optimisers are built) and ``SamplingOptions`` (keyword options of G for
    sampling: ``ganzoo sample --truncation``)."""


@hookspec
def register_losses(register: Register) -> None:
    """Register :class:`ganzoo.Loss` classes: the discriminator and generator objectives; a
    recipe picks one under ``loss:``.

    Required: ``discriminator_loss(ctx)`` and ``generator_loss(ctx)`` return a
    :class:`ganzoo.LossOutput` (the scalar to minimise, and device tensors to log) from a
    :class:`ganzoo.StepContext` (the batch, both networks, ``ctx.latent()``). Each training
    step calls ``discriminator_loss`` once per ``train.d_steps`` batch, then
    ``generator_loss`` once, inside the optimisers' ``zero_grad``/``step``; the hooks
    ``after_discriminator_step`` and ``after_generator_step`` follow each update. A loss is
    an ``nn.Module``: its buffers move to the device and are saved with the networks.
    Optional: ``scalars`` (how its logged values are named), ``needs`` (what it requires of
    the architecture and data), ``capturable``, and ``extra_passes``/``extra_loss``:
    optimiser steps of their own after some updates (lazy regularisation), which the
    trainer runs after the update they follow. Nothing in it may read a tensor value on
    the host: the step runs without host synchronisation."""


@hookspec
def register_augmentations(register: Register) -> None:
    """Register :class:`ganzoo.Augment` classes: differentiable transforms of every image
    the discriminator sees, real and generated, in both updates; a recipe picks one under
    ``augment:`` (``none``, the core's, by default).

    Required: ``forward(images, condition)`` returns the model-range images ``(B, C, H, W)``
    and the image condition of paired data (or None) transformed with the same draw per
    sample, differentiably in the images; called by the core on every input of D, inside
    the step (device work only: random numbers through ``self.uniform``/``self.normal``,
    state in buffers changed in place). Optional: ``adaptive`` with ``observe(real_sign,
    images)`` (adapt to D's verdict on the real images after every discriminator update,
    as ADA does), ``logs()`` with ``scalars`` (device tensors logged with the loss's),
    ``accepts()`` (the data it can augment), ``capturable``."""


@hookspec
def register_datasets(register: Register) -> None:
    """Register :class:`ganzoo.Dataset` classes; a recipe picks one under ``data:``.

    Required: ``load()`` returns the whole dataset as a :class:`ganzoo.Data` (uint8 images
    ``(N, C, H, W)`` or float32 points ``(N, D)``, optional labels and conditions), called
    once per run, before the networks are built; a dataset that cannot load raises
    :class:`ganzoo.DatasetError` saying which files it needs and where. Optional:
    ``provides()`` (a :class:`ganzoo.DataSpec`, known from the options alone) and a
    ``split`` option (evaluation loads ``split: test`` for held-out data)."""


@hookspec
def register_callbacks(register: Register) -> None:
    """Register :class:`ganzoo.Callback` classes that a recipe switches on under
    ``callbacks:`` to observe or extend training (an EMA of G, extra logging, early stops).

    Every method is optional and receives the run as a :class:`ganzoo.TrainingRun`:
    ``on_train_start`` (after a resumed state is loaded), ``on_step_end`` every step (no host
    reads), ``on_log`` with every logged row, ``on_epoch_end``, ``on_train_end`` (read
    ``run.status``). State that training depends on comes back from ``state_dict`` and is
    saved in every checkpoint; ``sampling_generator`` offers other weights to sample from."""


@hookspec
def register_metrics(register: Register) -> None:
    """Register :class:`ganzoo.Metric` classes: numbers about generated samples that
    ``ganzoo eval`` computes, and training computes every ``eval.every`` epochs.

    Required: ``compute(ctx)`` returns ``{logged key: value}`` from a
    :class:`ganzoo.MetricContext` (real and generated samples, cached features). Optional:
    ``unsupported(data)`` says why the metric cannot run on a dataset; ``default = False``
    keeps it out of ``ganzoo eval`` without ``--metrics``."""


@hookspec
def register_feature_extractors(register: Register) -> None:
    """Register :class:`ganzoo.FeatureExtractor` classes: the networks in whose feature
    space metrics such as FID compare generated and real samples.

    Required: ``extract(samples)`` returns :class:`ganzoo.Features` for one batch. Called
    after ``prepare(eval_data)``, once per evaluation session (load weights, or train on the
    data); ``describe()`` names it precisely, and is saved with every number it produced."""


@hookspec
def register_optimizers(register: Register) -> None:
    """Register :class:`ganzoo.Optimizer` classes that a recipe names under
    ``optim.generator`` and ``optim.discriminator``.

    Required: ``build(params)`` returns a ``torch.optim.Optimizer`` over the network's
    parameters, called once per network when the run is built. A captured step turns on the
    optimiser's ``capturable`` flag where torch has one."""


@hookspec
def register_schedules(register: Register) -> None:
    """Register :class:`ganzoo.Schedule` classes: learning-rate schedules that a recipe
    names under ``optim.<network>.schedule``.

    All methods are optional: ``start(optimizer, total_steps)`` once before training (and
    before a resumed state loads), ``step()`` after every training step, ``on_log(scalars)``
    with every logged row, ``state_dict``/``load_state_dict`` for exact resume. Any schedule
    but ``constant`` keeps the step from being captured as a CUDA graph."""
