"""MNIST and Fashion-MNIST through torchvision, held in memory as uint8 tensors.

A download goes into a temporary folder beside the data and is moved into place only when
every file arrived, so a failed download leaves nothing half-written behind. It runs under
ganzoo's network time-out: a mirror that stops answering fails the download in seconds,
and the message names every mirror tried and what each answered.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

import ganzoo
from ganzoo_datasets.idx import check_split


class TorchvisionDigits(ganzoo.Dataset):
    """Base for the 28x28 greyscale sets in torchvision's MNIST layout."""

    source_name: ClassVar[str]
    """The torchvision dataset class; torchvision is imported only when data is loaded,
    because importing it costs seconds that `ganzoo plugins` and `ganzoo check` need not pay."""

    @property
    def source(self):
        import torchvision.datasets

        return getattr(torchvision.datasets, self.source_name)

    class Options(ganzoo.Options):
        root: str = Field("data", description="folder holding <Name>/raw/ in torchvision's layout")
        download: bool = Field(True, description="download the files when they are missing")
        split: Literal["train", "test"] = Field("train", description="which split to train on")

    options: Options

    def provides(self) -> ganzoo.DataSpec:
        return ganzoo.DataSpec("images", (1, 28, 28), labels=True)

    @property
    def raw_folder(self) -> Path:
        return Path(self.options.root).expanduser() / self.source_name / "raw"

    def needed_files(self) -> list[str]:
        return [Path(filename).with_suffix("").name for filename, _ in self.source.resources]

    def load(self) -> ganzoo.Data:
        root = Path(self.options.root).expanduser()
        missing = [f for f in self.needed_files() if not (self.raw_folder / f).is_file()]
        if missing and self.options.download:
            self._download(root)
        check_split(self.raw_folder, "train" if self.options.split == "train" else "t10k", 10)
        try:
            dataset = self.source(str(root), train=self.options.split == "train", download=False)
        except RuntimeError as error:
            raise ganzoo.DatasetError(self._missing_message(str(error))) from None
        return ganzoo.Data(
            samples=dataset.data.unsqueeze(1).contiguous(),
            labels=dataset.targets.clone(),
            num_classes=len(dataset.classes),
            class_names=list(dataset.classes),
        )

    def _download(self, root: Path) -> None:
        try:
            root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".ganzoo-download-", dir=root))
        except OSError as error:
            raise ganzoo.DatasetError(self._missing_message(f"cannot write to {root}: {error}")) from None
        limit = None
        try:
            with ganzoo.network_timeout() as limit:
                self.source(str(staging), download=True)
            self.raw_folder.mkdir(parents=True, exist_ok=True)
            for name in self.needed_files():
                shutil.move(str(staging / self.source_name / "raw" / name), self.raw_folder / name)
        except Exception as error:  # network, checksum or disk: all leave nothing behind
            detail = " ".join(str(error).split()) or type(error).__name__  # torchvision lists each mirror's error
            hosts = " or ".join(urllib.parse.urlsplit(mirror).netloc for mirror in self.source.mirrors)
            if isinstance(error, TimeoutError) or "timed out" in detail:  # stalled, at the start or mid-file
                detail = f"no answer from {hosts} within {limit:g} s"
            raise ganzoo.DatasetError(self._missing_message(f"download failed: {detail}")) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _missing_message(self, cause: str) -> str:
        files = ", ".join(self.needed_files())
        mirrors = " or ".join(self.source.mirrors)
        first_line = cause.strip().splitlines()[0] if cause.strip() else ""
        return (
            f"{self.name}: the files {files} are needed in {self.raw_folder}/ and are not there "
            f"({first_line}). Download the .gz files from {mirrors}, unpack them into that folder "
            f"(or point data.root at a folder that has them)."
        )


class MNIST(TorchvisionDigits):
    """MNIST handwritten digits: 60,000 training and 10,000 test images, 1x28x28, 10 classes."""

    name = "mnist"
    source_name = "MNIST"


class FashionMNIST(TorchvisionDigits):
    """Fashion-MNIST (Zalando): 60,000 training and 10,000 test images, 1x28x28, 10 classes."""

    name = "fashion_mnist"
    source_name = "FashionMNIST"
