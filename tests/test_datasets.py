"""The bundled datasets: torchvision sets from local files, clear errors with no network,
image folders, and the 2-D toy mixtures."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy
import pytest
import torch
from PIL import Image

import ganzoo
from conftest import REPO, small_run, write_idx_mnist
from ganzoo.cli import main
from ganzoo_datasets import MNIST, FashionMNIST, Grid, ImageFolder, Ring

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
        raise RuntimeError(
            "Error downloading train-labels-idx1-ubyte.gz: <urlopen error [Errno 111] Connection refused>"
        )

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


def one_line_error(capsys, status: int, expected: int = 1) -> str:
    """The single line a command printed on stderr, after checking its status and that no traceback came."""
    err = capsys.readouterr().err
    assert status == expected and "Traceback" not in err, err
    (line,) = err.strip().splitlines()
    assert line.startswith("ganzoo: error: ")
    return line


def damage(raw: Path, how: str) -> str:
    """Damage the training files in ``raw`` as ``how`` says; the file named in the expected error."""
    images, labels = raw / "train-images-idx3-ubyte", raw / "train-labels-idx1-ubyte"
    if how == "wrong magic":
        images.write_bytes((0x0801).to_bytes(4, "big") + images.read_bytes()[4:])
        return f"{images} is not an MNIST images file (magic number 0x00000801, expected 0x00000803)"
    if how == "gzip":
        images.write_bytes(b"\x1f\x8b\x08\x00" + images.read_bytes()[4:])
        return f"{images} is not an MNIST images file (magic number 0x1f8b0800"
    if how == "empty":
        labels.write_bytes(b"")
        return f"{labels} is empty"
    if how == "truncated":
        images.write_bytes(images.read_bytes()[:-100])
        return f"{images} is truncated: its header announces 50x28x28 images (39216 bytes) and the file has 39116"
    if how == "too few labels":
        labels.write_bytes((0x0801).to_bytes(4, "big") + (49).to_bytes(4, "big") + labels.read_bytes()[8:-1])
        return f"{images} holds 50 images but {labels} holds 49 labels"
    if how == "label out of range":
        labels.write_bytes(labels.read_bytes()[:-1] + bytes([200]))
        return f"{labels} holds the label 200; labels must lie in 0..9"
    assert how == "wrong size"
    images.write_bytes(
        (0x0803).to_bytes(4, "big") + (50).to_bytes(4, "big") + (14).to_bytes(4, "big") * 2 + bytes(50 * 14 * 14)
    )
    return f"{images} holds 14x14 images; MNIST images are 28x28"


@pytest.mark.parametrize(
    "how", ["wrong magic", "gzip", "empty", "truncated", "too few labels", "label out of range", "wrong size"]
)
def test_corrupt_mnist_files_are_named_in_one_line(tmp_path, capsys, how):
    write_idx_mnist(tmp_path, n_train=50, n_test=20)
    expected = damage(tmp_path / "MNIST" / "raw", how)
    status = main(
        [
            "run",
            RECIPE,
            f"data.root={tmp_path}",
            "data.download=false",
            f"run.dir={tmp_path / 'runs'}",
            "wandb.mode=disabled",
        ]
    )
    assert expected in one_line_error(capsys, status)
    assert not (tmp_path / "runs").exists()


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


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A valid 1 kB PNG that announces ``width`` x ``height`` greyscale pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\x00" * 1000)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("side", [10_000, 100_000])  # over Pillow's warning limit; over its error limit
def test_a_decompression_bomb_is_named_not_decoded(tmp_path, capsys, side):
    root = make_images(tmp_path / "images")
    png_header_only(root / "cat" / "bomb.png", side, side)
    status = main(
        [
            "run",
            RECIPE,
            "data.name=image_folder",
            f"data.root={root}",
            "data.image_size=8",
            *small_run(tmp_path / "runs"),
        ]
    )
    line = one_line_error(capsys, status)
    assert "1 image(s) cannot be decoded: " in line and "bomb.png (" in line and "pixels" in line


def test_a_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    ramp = numpy.arange(64 * 64, dtype=numpy.uint16).reshape(64, 64) * 16  # 0 .. 65520
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode == "I;16"
    (image,) = ImageFolder(root=str(tmp_path), image_size=64, channels=1, cache=False).load().samples
    expected = torch.from_numpy(((ramp.astype(numpy.int64) + 128) // 257).astype(numpy.uint8))
    assert torch.equal(image[0], expected)
    assert (image == 255).float().mean() < 0.01  # Pillow's own convert("L") made 99.6 % of them white
    rgb = ImageFolder(root=str(tmp_path), image_size=64, channels=3, cache=False).load().samples[0]
    assert torch.equal(rgb[1], expected)


def test_image_folder_without_images(tmp_path):
    with pytest.raises(ganzoo.DatasetError, match="no images under"):
        ImageFolder(root=str(tmp_path)).load()
    with pytest.raises(ganzoo.DatasetError, match="is not a folder"):
        ImageFolder(root=str(tmp_path / "missing")).load()


def test_a_recipe_trains_on_an_image_folder(tmp_path, capsys):
    root = make_images(tmp_path / "images", per_class=8)
    status = main(
        [
            "run",
            RECIPE,
            "data.name=image_folder",
            f"data.root={root}",
            "data.image_size=8",
            "train.epochs=2",
            "train.batch_size=4",
            "train.sample_every=2",
            "train.num_samples=4",
            *small_run(tmp_path / "runs"),
        ]
    )
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
    assert torch.allclose(
        Ring(modes=4, radius=1.0).centers(), torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, -1]]), atol=1e-6
    )
    grid = Grid(side=3, spacing=1.0).centers()
    assert grid.min() == -1 and grid.max() == 1 and len(grid) == 9
