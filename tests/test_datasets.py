"""The bundled datasets: torchvision sets from local files, clear errors with no network,
image folders, and the 2-D toy mixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.cli import main
from ganzoo_datasets import FashionMNIST, Grid, ImageFolder, MNIST, Ring
from conftest import REPO, write_idx_mnist

RECIPE = str(REPO / "recipes" / "vanilla_mnist.yaml")
NEEDED = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


@pytest.mark.parametrize("dataset, folder", [(MNIST, "MNIST"), (FashionMNIST, "FashionMNIST")])
def test_torchvision_sets_load_local_files_into_uint8_tensors(tmp_path, dataset, folder):
    write_idx_mnist(tmp_path, folder, n_train=50, n_test=20)
    data = dataset(root=str(tmp_path), download=False).load()
    assert data.samples.shape == (50, 1, 28, 28) and data.samples.dtype == torch.uint8
    assert data.labels.shape == (50,) and data.num_classes == 10 and len(data.class_names) == 10
    assert len(dataset(root=str(tmp_path), split="test", download=False).load()) == 20


def test_missing_files_name_the_files_and_the_folder(tmp_path, capsys):
    status = main(["run", RECIPE, f"data.root={tmp_path}", "data.download=false", f"run.dir={tmp_path / 'runs'}"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert err.startswith("ganzoo: error: mnist: the files ")
    assert all(name in err for name in NEEDED)
    assert f"{tmp_path / 'MNIST' / 'raw'}/" in err
    assert not (tmp_path / "runs").exists()  # no empty run folder for a run that never started


def test_a_failed_download_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    import torchvision.datasets

    def half_download(self):
        # What a dropped connection does: one file arrives, the next one fails.
        raw = Path(self.raw_folder)
        assert tmp_path / "data" in raw.parents
        raw.mkdir(parents=True, exist_ok=True)
        (raw / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b partial")
        raise RuntimeError("Error downloading train-labels-idx1-ubyte.gz: <urlopen error [Errno 111] Connection refused>")

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", half_download)
    root = tmp_path / "data"
    status = main(["run", RECIPE, f"data.root={root}", f"run.dir={tmp_path / 'runs'}", "wandb.mode=disabled"])
    err = capsys.readouterr().err
    assert status == 1
    assert "download failed: Error downloading train-labels-idx1-ubyte.gz" in err
    assert all(name in err for name in NEEDED) and "https://ossci-datasets.s3.amazonaws.com/mnist/" in err
    assert list(root.rglob("*")) == []


def test_a_completed_download_is_moved_into_place(tmp_path, monkeypatch):
    import torchvision.datasets

    def fake_download(self):  # a download that succeeds: the files land in the staging folder
        write_idx_mnist(Path(self.root), n_train=10, n_test=5)

    monkeypatch.setattr(torchvision.datasets.MNIST, "download", fake_download)
    data = MNIST(root=str(tmp_path)).load()
    assert len(data) == 10
    assert sorted(p.name for p in (tmp_path / "MNIST" / "raw").iterdir()) == sorted(NEEDED)
    assert [p.name for p in tmp_path.iterdir()] == ["MNIST"]  # the staging folder is gone


def make_images(root, classes=("cat", "dog"), per_class=3, size=(20, 12)):
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.new("RGB", size, color=(40 * i, 100 * index, 200)).save(root / name / f"{i}.png")
    return root


def test_image_folder_decodes_once_with_labels_from_subfolders(tmp_path):
    root = make_images(tmp_path / "images")
    data = ImageFolder(root=str(root), image_size=8).load()
    assert data.samples.shape == (6, 3, 8, 8) and data.samples.dtype == torch.uint8
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1] and data.class_names == ["cat", "dog"]
    grey = ImageFolder(root=str(root), image_size=8, channels=1).load()
    assert grey.samples.shape == (6, 1, 8, 8)


def test_image_folder_flat_has_no_labels(tmp_path):
    for i in range(2):
        Image.new("L", (9, 9), color=i * 100).save(tmp_path / f"{i}.jpg")
    data = ImageFolder(root=str(tmp_path), image_size=4).load()
    assert data.labels is None and data.num_classes is None and len(data) == 2


def test_image_folder_names_broken_images(tmp_path):
    root = make_images(tmp_path / "images")
    (root / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ganzoo.DatasetError, match=r"1 image\(s\) cannot be decoded: .*broken.png"):
        ImageFolder(root=str(root)).load()


def test_image_folder_without_images(tmp_path):
    with pytest.raises(ganzoo.DatasetError, match="no images under"):
        ImageFolder(root=str(tmp_path)).load()
    with pytest.raises(ganzoo.DatasetError, match="is not a folder"):
        ImageFolder(root=str(tmp_path / "missing")).load()


def test_a_recipe_trains_on_an_image_folder(tmp_path, capsys):
    root = make_images(tmp_path / "images", per_class=8)
    status = main(["run", RECIPE, "data.name=image_folder", f"data.root={root}", "data.image_size=8",
                   "train.epochs=2", "train.batch_size=4", "train.sample_every=2", "train.num_samples=4",
                   f"run.dir={tmp_path / 'runs'}", "wandb.mode=disabled", "--no-progress"])
    assert status == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert sorted(p.name for p in (run / "samples").iterdir()) == [f"step_{s:07d}.png" for s in (2, 4, 6, 8)]
    assert Image.open(run / "samples" / "step_0000008.png").size == (2 + 2 * 10, 2 + 2 * 10)


@pytest.mark.parametrize("dataset, modes, std", [(Ring(), 8, 0.02), (Grid(), 25, 0.05)])
def test_toy_mixtures_put_every_point_near_a_mode(dataset, modes, std):
    data = dataset.load()
    centers = dataset.centers()
    assert len(centers) == modes and data.num_classes == modes
    assert data.samples.shape == (50_000, 2) and data.samples.dtype == torch.float32
    distance = (data.samples - centers[data.labels]).norm(dim=1)
    assert distance.max() < 6 * std
    assert torch.bincount(data.labels, minlength=modes).min() > 50_000 / modes * 0.9
    assert torch.equal(type(dataset)().load().samples, data.samples)  # seeded, not random
    assert not torch.equal(type(dataset)(seed=1).load().samples, data.samples)


def test_ring_and_grid_geometry():
    assert torch.allclose(Ring(modes=4, radius=1.0).centers(), torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, -1]]), atol=1e-6)
    grid = Grid(side=3, spacing=1.0).centers()
    assert grid.min() == -1 and grid.max() == 1 and len(grid) == 9
