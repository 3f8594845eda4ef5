"""Input headers are read with a bounded read (issue 27, items 3, 5 and 6).

A catalogue whose first line is huge, that is not a regular file or that is
not text stops the check at once with one short message: the check reads at
most :data:`MAX_HEADER_BYTES` and never opens a pipe or a device.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netflix_dec.catalogue import (
    COLUMNS,
    MAX_HEADER_BYTES,
    RawTitlesError,
    check_new_titles_file,
    check_titles_file,
    checks,
)

SHORT = 400  # characters: one readable line, whatever the file holds


class _CountingFile(io.FileIO):
    read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        _CountingFile.read_bytes += len(data)
        return data


def test_a_20_mb_one_line_header_stops_with_a_short_message_reading_1_mb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "one_line.csv"
    path.write_bytes(b"show_id,title," + b"x" * (20 * 2**20))
    _CountingFile.read_bytes = 0
    monkeypatch.setattr(
        checks, "open", lambda p, mode="rb": _CountingFile(p, "r"), raising=False
    )
    with pytest.raises(
        RawTitlesError, match="no line break in its first 1 MB"
    ) as error:
        check_titles_file(path, ["Movie"])
    assert len(str(error.value)) < SHORT
    # Read through the patched open() (not vacuously zero), and no more than 1 MB.
    assert 0 < _CountingFile.read_bytes <= MAX_HEADER_BYTES + 1


def test_a_long_header_that_is_a_header_is_listed_short(tmp_path: Path):
    path = tmp_path / "wide.csv"
    names = [f"column_{i}_{'y' * 200}" for i in range(2000)]
    path.write_text(",".join(names) + "\n" + ",".join("1" * len(names)) + "\n")
    with pytest.raises(RawTitlesError, match="missing column") as error:
        check_titles_file(path, ["Movie"])
    message = str(error.value)
    assert len(message) < 2000
    assert "and 1,980 more (2,000 in all)" in message


_CAPPED = """
import resource, sys
cap = 1536 * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from netflix_dec.catalogue import RawTitlesError, check_titles_file
try:
    check_titles_file(sys.argv[1], ["Movie"])
except RawTitlesError as error:
    print(error)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS caps memory on Linux")
def test_a_600_mb_file_without_a_newline_stops_in_bounded_memory(tmp_path: Path):
    """Sparse, so it costs no disk; under a 1.5 GB address-space cap."""
    path = tmp_path / "no_newline.csv"
    with path.open("wb") as file:
        file.write(b"show_id,title,description,")
        file.truncate(600 * 2**20)
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no line break in its first 1 MB" in done.stdout
    assert len(done.stdout) < SHORT


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_named_as_such_and_never_opened(tmp_path: Path):
    fifo = tmp_path / "titles.csv"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(RawTitlesError, match=r"is not a regular file \(a named pipe"):
        check_titles_file(fifo, ["Movie"])
    with pytest.raises(RawTitlesError, match="is not a regular file"):
        check_new_titles_file(fifo)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_named_as_such(device: str):
    if not Path(device).exists():
        pytest.skip(f"{device} does not exist here")
    with pytest.raises(RawTitlesError, match=r"is not a regular file \(a device\)"):
        check_titles_file(device, ["Movie"])


def test_a_file_that_is_not_text_is_named_as_such(tmp_path: Path):
    # The Kaggle header, then binary content (NUL bytes).
    path = tmp_path / "titles.csv"
    path.write_bytes(",".join(COLUMNS).encode() + b"\n" + bytes(range(256)) * 40)
    with pytest.raises(RawTitlesError, match="holds NUL bytes, so it is not text"):
        check_titles_file(path, ["Movie"])
