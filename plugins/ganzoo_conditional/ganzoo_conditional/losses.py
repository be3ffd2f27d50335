"""The ACGAN objective."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import ganzoo


def _source(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


class ACGANLoss(ganzoo.Loss):
    """ACGAN (Odena et al., 2017): the GAN loss on D's source logit plus cross-entropy of D's class head, on real labels and on the random labels G was given.

    D minimises BCE(src(x), 1) + BCE(src(G(z, c)), 0) + CE(cls(x), y) + CE(cls(G(z, c)), c);
    G minimises BCE(src(G(z, c)), 1) + CE(cls(G(z, c)), c), with c drawn uniformly. It logs
    ``d_real`` and ``d_fake`` (probabilities) and ``class_accuracy`` on the real batch."""

    capturable = True  # every update is device work on tensors it keeps (docs/speed.md)
    reports_real_scores = True  # the source head's logit

    name = "acgan"
    scalars = {
        "d_real": ganzoo.ScalarInfo("D(x)", "mean probability D's source head gives real samples", probability=True),
        "d_fake": ganzoo.ScalarInfo(
            "D(G(z))", "mean probability D's source head gives generated samples", probability=True
        ),
        "class_accuracy": ganzoo.ScalarInfo("class accuracy", "accuracy of D's class head on the real batch"),
    }

    def needs(self) -> ganzoo.Needs:
        return ganzoo.Needs(d_output=("logit+classes",), labels=True)

    def _fake_labels(self, ctx: ganzoo.StepContext) -> torch.Tensor:
        classes = getattr(ctx.architecture, "classes", 0)
        if not classes:
            raise ganzoo.GanzooError("the acgan loss needs the acgan architecture (model: {name: acgan})")
        return torch.randint(classes, (ctx.batch_size,), device=ctx.real.device)

    def discriminator_loss(self, ctx):
        if ctx.labels is None:
            raise ganzoo.GanzooError("the acgan loss needs labelled data")
        src_real, cls_real = ctx.discriminator(ctx.real, ctx.labels)
        fake_labels = self._fake_labels(ctx)
        fake = ctx.generator(ctx.latent(), fake_labels).detach()
        src_fake, cls_fake = ctx.discriminator(fake, fake_labels)
        loss = (
            _source(src_real, 1.0)
            + _source(src_fake, 0.0)
            + F.cross_entropy(cls_real, ctx.labels)
            + F.cross_entropy(cls_fake, fake_labels)
        )
        accuracy = (cls_real.detach().argmax(1) == ctx.labels).float().mean()
        return ganzoo.LossOutput(
            loss,
            {
                "d_real": torch.sigmoid(src_real.detach()).mean(),
                "d_fake": torch.sigmoid(src_fake.detach()).mean(),
                "class_accuracy": accuracy,
            },
            real_scores=src_real.detach(),
        )

    def generator_loss(self, ctx):
        z = ctx.latent()
        fake_labels = self._fake_labels(ctx)
        src, cls = ctx.discriminator(ctx.generator(z, fake_labels), fake_labels)
        return ganzoo.LossOutput(_source(src, 1.0) + F.cross_entropy(cls, fake_labels))
