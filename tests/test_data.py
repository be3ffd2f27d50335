"""The in-memory data path: same batches as the DataLoader reference, scaled identically."""

from __future__ import annotations

import pytest
import torch
import torchvision
from PIL import Image

import ganzoo
from ganzoo.api import to_model_range
from ganzoo.train.batches import BatchStream
from ganzoo_datasets import ImageFolder


def test_batches_equal_a_shuffled_dataloader_with_the_same_seed():
    """Three epochs of index slices give exactly the DataLoader's batches, and leave the
    global random stream where the DataLoader leaves it."""
    images = torch.randint(0, 256, (103, 1, 4, 4), dtype=torch.uint8)
    labels = torch.arange(103)
    stream = BatchStream(ganzoo.Data(images, labels, 103), batch_size=10, device=torch.device("cpu"))

    torch.manual_seed(7)
    ours = [[(x.clone(), y.clone()) for x, y in stream.batches(stream.new_order())] for _ in range(3)]
    after_ours = torch.rand(3)

    torch.manual_seed(7)
    dataset = torch.utils.data.TensorDataset(images, labels)
    loader = torch.utils.data.DataLoader(dataset, batch_size=10, shuffle=True)
    reference = [[(to_model_range(x), y) for x, y in loader] for _ in range(3)]
    after_reference = torch.rand(3)

    assert [len(epoch) for epoch in ours] == [11, 11, 11]
    for our_epoch, reference_epoch in zip(ours, reference):
        for (x, y), (rx, ry) in zip(our_epoch, reference_epoch):
            assert torch.equal(y, ry) and torch.equal(x, rx)
    assert torch.equal(after_ours, after_reference)


def test_scaling_matches_totensor_and_normalize_bitwise():
    pixels = torch.arange(256, dtype=torch.uint8).view(1, 16, 16)
    transform = torchvision.transforms.Compose(
        [torchvision.transforms.ToTensor(), torchvision.transforms.Normalize((0.5,), (0.5,))]
    )
    reference = transform(Image.fromarray(pixels[0].numpy(), mode="L"))
    assert torch.equal(to_model_range(pixels), reference)


def test_drop_last_and_points_pass_unscaled():
    points = torch.randn(25, 2)
    stream = BatchStream(ganzoo.Data(points), batch_size=10, device=torch.device("cpu"), drop_last=True)
    batches = [x for x, _ in stream.batches(stream.new_order())]
    assert len(stream) == 2 and [len(b) for b in batches] == [10, 10]
    assert all(torch.isin(b, points).all() for b in batches)


def make_folder(root, n=4):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (10, 10), color=(i * 50, 0, 0)).save(root / f"{i}.png")
    return root


def test_image_folder_decodes_once_then_reads_its_cache(tmp_path, monkeypatch):
    root = make_folder(tmp_path / "images")
    first = ImageFolder(root=str(root), image_size=4).load()
    assert len(list((root / ".ganzoo-cache").glob("*.pt"))) == 1

    def no_decoding(self, path):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(ImageFolder, "_decode", no_decoding)
    second = ImageFolder(root=str(root), image_size=4).load()
    assert torch.equal(first.samples, second.samples)
    with pytest.raises(AssertionError, match="decoded again"):  # other options: another cache entry
        ImageFolder(root=str(root), image_size=5).load()


def test_a_changed_folder_is_decoded_afresh(tmp_path):
    root = make_folder(tmp_path / "images")
    assert len(ImageFolder(root=str(root), image_size=4).load()) == 4
    Image.new("RGB", (10, 10)).save(root / "new.png")
    assert len(ImageFolder(root=str(root), image_size=4).load()) == 5
    (root / "0.png").unlink()
    assert len(ImageFolder(root=str(root), image_size=4).load()) == 4


def test_a_corrupt_cache_is_rebuilt(tmp_path):
    root = make_folder(tmp_path / "images")
    expected = ImageFolder(root=str(root), image_size=4).load().samples
    (cache,) = (root / ".ganzoo-cache").glob("*.pt")
    cache.write_bytes(b"truncated")
    assert torch.equal(ImageFolder(root=str(root), image_size=4).load().samples, expected)


def test_an_unwritable_folder_caches_in_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "images")
    (root / ".ganzoo-cache").write_text("a file where the cache folder would go")  # fails even as root
    data = ImageFolder(root=str(root), image_size=4).load()
    (cached,) = (tmp_path / "cache" / "ganzoo" / "image_folder").glob("*.pt")
    assert torch.equal(torch.load(cached, weights_only=True)["samples"], data.samples)
    assert not list(root.glob("*.tmp")) and not list(cached.parent.glob("*.tmp"))
