"""The two feature spaces: a classifier trained on the run's dataset, and InceptionV3."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch
from pydantic import Field

import ganzoo
from ganzoo_metrics.classifier import FEATURES, ClassifierOptions, load_or_train, to_input

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_OPTION = "eval.extractors.inception.weights"


class DatasetClassifier(ganzoo.FeatureExtractor):
    """A small CNN trained on the run's labelled dataset: offline FID/KID features, IS and class coverage.

    Trained once per dataset (its test split, when the dataset has a ``split`` option,
    measures its accuracy) and cached; numbers in its feature space compare runs on the
    same dataset only, never with papers' Inception FIDs."""

    name = "classifier"

    Options = ClassifierOptions
    options: ClassifierOptions

    def prepare(self, data: ganzoo.EvalData) -> None:
        test = data.load_split("test") if data.options.get("split", "train") != "test" else None
        self.trained = load_or_train(data.data, test, self.options, data)
        self.dataset = data.dataset

    def describe(self) -> str:
        t = self.trained
        return (
            f"classifier: ganzoo SmallConvNet ({FEATURES}-d features) trained on {self.dataset}, "
            f"{t.accuracy:.2%} accuracy on {t.held_out}; {t.path.name}"
        )

    def extract(self, samples: torch.Tensor) -> ganzoo.Features:
        features, logits = self.trained.network(to_input(samples))
        return ganzoo.Features(features, logits)


class InceptionV3(ganzoo.FeatureExtractor):
    """The InceptionV3 of the FID paper (TF 2015-12-05 weights, through torch-fidelity): comparable with papers.

    The weights (91 MB) download on first use into torch's hub cache; offline, point
    ``weights`` at a local copy. Slow on a CPU: about 6 GFLOPs per image."""

    name = "inception"

    class Options(ganzoo.Options):
        weights: Optional[str] = Field(
            None, description=f"local copy of {INCEPTION_FILE} (default: torch's hub cache, downloaded when missing)"
        )

    options: Options

    def prepare(self, data: ganzoo.EvalData) -> None:
        if not data.data.is_image or data.data.samples.shape[1] not in (1, 3):
            raise ganzoo.EvaluationError("InceptionV3 needs greyscale or RGB images")
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        path = self._weights_file()
        try:
            self.network = FeatureExtractorInceptionV3(
                "inception-v3-compat",
                ["2048", "logits_unbiased"],
                feature_extractor_weights_path=str(path),
                verbose=False,
            )
        except Exception as error:
            raise ganzoo.EvaluationError(
                f"{path} does not hold the InceptionV3 weights torch-fidelity expects: "
                f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
            ) from None
        self.network.to(data.device)
        self.path = path

    def _weights_file(self) -> Path:
        """The weights on disk: the ``weights`` option, or the hub cache (downloading once).
        Either way the file is first loaded with ``weights_only=True``, so it cannot run code."""
        if self.options.weights:
            path = Path(self.options.weights).expanduser()
            if not path.is_file():
                raise ganzoo.EvaluationError(f"{INCEPTION_OPTION} points at {path}, which does not exist")
        else:
            from torch.hub import download_url_to_file, get_dir
            from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

            path = Path(get_dir()) / "checkpoints" / INCEPTION_FILE
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                limit = None
                try:
                    with ganzoo.network_timeout() as limit:  # a stalled server fails in seconds, not never
                        download_url_to_file(URL_INCEPTION_V3, str(path), progress=True)
                except Exception as error:
                    reason = " ".join(str(error).split())
                    if isinstance(error, TimeoutError) or "timed out" in reason:
                        reason += f"; no answer within {limit:g} s"
                    raise ganzoo.EvaluationError(
                        f"the InceptionV3 weights {INCEPTION_FILE} are not on this machine and could not be downloaded "
                        f"from {URL_INCEPTION_V3} ({type(error).__name__}: {reason}). Copy that file here from a machine "
                        f"with a network, then either put it at {path} or point the option {INCEPTION_OPTION} at it "
                        f"(ganzoo eval RUN {INCEPTION_OPTION}=PATH). The dataset classifier (extractor `classifier`) "
                        f"works offline."
                    ) from None
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise ganzoo.EvaluationError(
                f"{path} cannot be loaded safely as weights: {str(error).splitlines()[0]}"
            ) from None
        return path

    def describe(self) -> str:
        return f"inception: InceptionV3 pool3 (2048-d features), torch-fidelity, {self.path.name}"

    def extract(self, samples: torch.Tensor) -> ganzoo.Features:
        if samples.shape[1] == 1:
            samples = samples.expand(-1, 3, -1, -1)
        features, logits = self.network(samples)
        return ganzoo.Features(features, logits)
