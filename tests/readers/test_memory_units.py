"""Memory sizes as admins and spawners write them."""

import pytest

from colab_guard.contract.units import human_bytes, parse_size
from colab_guard.readers.memory import read_meminfo


@pytest.mark.parametrize(
    "text, expected",
    [
        ("12884901888", 12884901888),
        ("12G", 12 << 30),
        ("12GiB", 12 << 30),
        ("512M", 512 << 20),
        ("1.5g", int(1.5 * (1 << 30))),
        ("100k", 100 << 10),
        (2048, 2048),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "lots", "12X", "-1G", -5, "1 2G"])
def test_parse_size_rejects_garbage_with_a_message(bad):
    with pytest.raises(ValueError, match="memory size"):
        parse_size(bad)


def test_meminfo_of_this_machine_in_bytes():
    with open("/proc/meminfo") as f:
        first = f.readline().split()
    assert first[0] == "MemTotal:"
    assert read_meminfo()["MemTotal"] == int(first[1]) * 1024


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (1023.99 * 1024, "1.0 MiB"),
        (9.1 * 2**30, "9.1 GiB"),
        (None, "n/a"),
        (float("nan"), "n/a"),
    ],
)
def test_one_byte_formatter_for_every_message(n, text):
    assert human_bytes(n) == text
