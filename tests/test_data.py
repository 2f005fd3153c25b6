import gzip
import hashlib
import http.server
import struct
import threading

import numpy as np
import pytest
import torch
from scipy import ndimage

from vaelab import data


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


# ---- IDX parsing -------------------------------------------------------------------------


def test_parse_idx_round_trip():
    a = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.testing.assert_array_equal(data.parse_idx(idx_bytes(a)), a)


def test_wrong_magic_number_names_file_and_expectation():
    raw = b"\x12\x34" + idx_bytes(np.zeros((1, 2, 2)))[2:]
    with pytest.raises(ValueError, match=r"f\.idx: wrong magic number 0x1234.*expected 0x0000"):
        data.parse_idx(raw, path="f.idx")


def test_dimension_and_item_count_checks():
    raw = idx_bytes(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="3 dimensions in the header; expected 1"):
        data.parse_idx(raw, path="labels", expected_ndim=1)
    with pytest.raises(ValueError, match=r"declares shape \(3, 4, 4\).*holds 60 bytes"):
        data.parse_idx(raw[:-4], path="images")


def test_truncated_gz_is_reported(offline_data):
    d = offline_data / "fashion-mnist"
    d.mkdir()
    blob = gzip.compress(idx_bytes(np.zeros(60000)))
    (d / "train-labels-idx1-ubyte.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz: truncated or corrupt gzip"):
        data._load_idx("fashion-mnist", "train", "labels")


def test_checksum_mismatch_of_decompressed_content(offline_data):
    d = offline_data / "fashion-mnist"
    d.mkdir()
    (d / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.ones(60000))))
    with pytest.raises(ValueError, match="checksum mismatch of the decompressed content"):
        data._load_idx("fashion-mnist", "train", "labels")


# ---- finding, downloading, failing ---------------------------------------------------------


def test_unknown_data_set_and_split():
    with pytest.raises(ValueError, match="unknown data set 'cifar'.*fashion-mnist"):
        data.load("cifar")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        data.load("tiles", "val")


def test_missing_data_offline_says_how_to_get_it(offline_data):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load("fashion-mnist")


def test_search_order_prefers_vaelab_data_dir(offline_data):
    d = offline_data / "fashion-mnist"
    d.mkdir()
    (d / "t10k-labels-idx1-ubyte").write_bytes(b"x")
    assert data._find("fashion-mnist", "t10k-labels-idx1-ubyte") == d / "t10k-labels-idx1-ubyte"
    assert data.data_dirs("fashion-mnist")[:2] == [d, data.cache_dir() / "fashion-mnist"]


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()

    def handler(*args, **kwargs):
        return http.server.SimpleHTTPRequestHandler(*args, directory=str(www), **kwargs)

    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_download_verifies_and_renames_into_cache(offline_data, server, monkeypatch):
    www, url = server
    content = idx_bytes(np.arange(10) % 10)
    (www / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(content))
    sha = {"t10k-labels-idx1-ubyte": hashlib.sha256(content).hexdigest()}
    monkeypatch.setattr(data, "SHA256", {"mnist": sha})
    monkeypatch.setattr(data, "URLS", {"mnist": (url,)})
    monkeypatch.setattr(data, "_download_failed", set())  # earlier tests may have tried the web
    monkeypatch.delenv("VAELAB_OFFLINE")
    path = data.locate("mnist", "t10k-labels-idx1-ubyte")
    assert path == data.cache_dir() / "mnist" / "t10k-labels-idx1-ubyte.gz"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_download_with_bad_checksum_leaves_nothing(offline_data, server, monkeypatch):
    www, url = server
    (www / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(10))))
    monkeypatch.setattr(data, "SHA256", {"mnist": {"t10k-labels-idx1-ubyte": "0" * 64}})
    monkeypatch.setattr(data, "URLS", {"mnist": (url,)})
    monkeypatch.setattr(data, "_download_failed", set())
    monkeypatch.delenv("VAELAB_OFFLINE")
    with pytest.raises(FileNotFoundError, match="download failed.*checksum mismatch"):
        data.locate("mnist", "t10k-labels-idx1-ubyte")
    assert list((data.cache_dir() / "mnist").iterdir()) == []


# ---- the data sets -------------------------------------------------------------------------


def test_fashion_mnist_is_found_and_verified():
    x, y = data.load("fashion-mnist", "test")
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and y.bincount().tolist() == [1000] * 10
    assert x.min() == 0 and x.max() == 1


def test_mnist_falls_back_to_5k_subset_with_a_notice(offline_data, capsys):
    x, y = data.load("mnist")
    assert "5,000-image MNIST subset" in capsys.readouterr().err
    assert x.shape == (4000, 1, 28, 28) and y.bincount().tolist() == [400] * 10
    xt, yt = data.load("mnist-5k", "test")
    assert xt.shape == (1000, 1, 28, 28) and yt.bincount().tolist() == [100] * 10
    assert x.min() >= 0 and x.max() == 1


def test_tiles_are_seeded_counted_and_separate():
    spec = data.TilesSpec(n=500, seed=3)
    x, y = data.load("tiles", tiles=spec)
    x2, y2 = data.load("tiles", tiles=spec)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, data.load("tiles", tiles=data.TilesSpec(n=500, seed=4))[0])
    assert not torch.equal(x, data.load("tiles", "test", tiles=spec)[0])
    assert set(y.tolist()) == {1, 2, 3}
    for img, count in zip(x[:, 0].numpy(), y.tolist(), strict=True):
        labels, found = ndimage.label(img > 0.5, structure=np.ones((3, 3)))
        assert found == count
        assert img.sum() == 16 * count  # 4x4 white tiles


def test_tiles_options_and_errors():
    x, y = data.load("tiles", tiles=data.TilesSpec(n=50, min_tiles=2, max_tiles=5, tile_size=3))
    assert set(y.tolist()) <= {2, 3, 4, 5} and (x.sum((1, 2, 3)) == 9 * y).all()
    with pytest.raises(ValueError, match="min_tiles <= max_tiles"):
        data.load("tiles", tiles=data.TilesSpec(n=5, min_tiles=3, max_tiles=2))
    with pytest.raises(ValueError, match="max_tiles=9 may not fit"):
        data.load("tiles", tiles=data.TilesSpec(n=5, max_tiles=9, tile_size=4))
