"""The conditioning contract: labels and images are two cases of one per-sample condition."""

import pytest
import torch

import ganzoo
from ganzoo.train.batches import BatchStream

CPU = torch.device("cpu")


def test_image_conditions_are_sliced_with_the_samples_and_scaled_like_them():
    targets = torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1).expand(12, 3, 4, 4).contiguous()
    inputs = (255 - targets[:, :1]).contiguous()  # a one-channel condition beside 3-channel targets
    data = ganzoo.Data(targets, condition=inputs)
    assert data.condition_kind == "images" and data.labels is None
    assert data.info == ganzoo.DataInfo(shape=(3, 4, 4), condition_shape=(1, 4, 4))
    # Paired data may still say which class each target is (for metrics); the networks get the images.
    labelled = ganzoo.Data(targets, torch.arange(12) % 2, 2, condition=inputs)
    assert labelled.condition is inputs and labelled.info.condition_kind == "images"
    stream = BatchStream(data, batch_size=5, device=CPU)
    assert stream.labels is None
    for real, condition in stream.batches(stream.new_order()):
        assert condition.shape == (len(real), 1, 4, 4) and condition.dtype == torch.float32
        # each condition is its own sample's: (255 - v) scaled is -(v scaled)
        assert torch.allclose(condition[:, 0], -real[:, 0])


def test_labels_are_the_label_case_of_the_same_condition():
    labels = torch.arange(6) % 3
    data = ganzoo.Data(torch.zeros(6, 2), labels, num_classes=3)
    assert data.condition is labels and data.labels is labels and data.condition_kind == "labels"
    assert data.info.condition_kind == "labels" and data.info.condition_shape is None
    assert ganzoo.Data(torch.zeros(6, 2), condition=labels, num_classes=3).labels is labels
    ctx = ganzoo.StepContext(torch.zeros(6, 2), labels, None, None, ganzoo.Architecture(), 0)
    assert ctx.labels is ctx.condition is labels


def test_data_info_round_trips_through_plain_values():
    for info in (
        ganzoo.DataInfo((1, 28, 28)),
        ganzoo.DataInfo((1, 28, 28), 10),
        ganzoo.DataInfo((3, 8, 8), condition_shape=(1, 8, 8)),
    ):
        assert ganzoo.DataInfo.from_dict(info.as_dict()) == info
    assert ganzoo.DataInfo.from_dict({"shape": [2], "num_classes": None}) == ganzoo.DataInfo((2,))  # older files


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"condition": torch.zeros(3, dtype=torch.int64)}, "3 labels for 4 samples"),
        ({"condition": torch.zeros(3, 2)}, "class labels"),
        ({"condition": torch.zeros(3, 1, 2, 2, dtype=torch.int64)}, "uint8 or float32"),
        ({"condition": torch.zeros(2, 1, 2, 2)}, "2 conditions for 4 samples"),
        ({"labels": torch.zeros(3, dtype=torch.int64)}, "3 labels for 4 samples"),
    ],
)
def test_bad_conditions_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ganzoo.Data(torch.zeros(4, 1, 2, 2, dtype=torch.uint8), **kwargs)
