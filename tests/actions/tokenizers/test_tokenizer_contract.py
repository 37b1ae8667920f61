"""Contract tests run over every registered action tokenizer."""

import json

import numpy as np
import pytest

from hivla.actions.synthetic import smooth_chunks
from hivla.actions.tokenizers import TOKENIZERS, FastConfig, FastTokenizer, load_tokenizer, make_tokenizer
from hivla.registry import UnknownNameError

H, A = 10, 3
CHUNKS = smooth_chunks(200, H, A, seed=1)
HELD_OUT = smooth_chunks(20, H, A, seed=2)
NAMES = TOKENIZERS.names()


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    return make_tokenizer(request.param).fit(CHUNKS)


def test_registry_holds_bins_and_fast():
    assert set(NAMES) >= {"bins", "fast"}
    with pytest.raises(UnknownNameError, match="available: bins, fast"):
        make_tokenizer("fsat")


def test_encode_gives_in_vocab_int_ids(fitted):
    for chunk in HELD_OUT:
        ids = fitted.encode(chunk)
        assert ids.dtype == np.int64 and ids.ndim == 1 and len(ids) > 0
        assert ids.min() >= 0 and ids.max() < fitted.vocab_size


def test_decode_returns_the_chunk_shape_and_reconstructs(fitted):
    errors = []
    for chunk in HELD_OUT:
        out = fitted.decode(fitted.encode(chunk))
        assert out.shape == (H, A) and out.dtype == np.float32
        errors.append(np.abs(fitted.normalize(out) - fitted.normalize(chunk)).mean())
    assert np.mean(errors) < 0.05  # normalized units, [-1, 1]


def test_encode_does_not_mutate_its_input(fitted):
    chunk = HELD_OUT[0].copy()
    fitted.encode(chunk)
    np.testing.assert_array_equal(chunk, HELD_OUT[0])


def test_save_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "tok")
    assert not list((tmp_path / "tok").glob("*.pkl"))
    loaded = load_tokenizer(tmp_path / "tok")
    assert type(loaded) is type(fitted) and loaded.config == fitted.config
    assert loaded.vocab_size == fitted.vocab_size
    rng = np.random.default_rng(0)
    for chunk in HELD_OUT[:5]:
        ids = fitted.encode(chunk)
        np.testing.assert_array_equal(loaded.encode(chunk), ids)
        np.testing.assert_array_equal(loaded.decode(ids), fitted.decode(ids))
        garbage = rng.integers(-10, fitted.vocab_size + 10, size=rng.integers(0, 40))
        np.testing.assert_array_equal(loaded.decode(garbage), fitted.decode(garbage))


def test_bad_inputs_raise_value_error_naming_the_shape(fitted):
    with pytest.raises(ValueError, match=rf"\(H, A\) = \({H}, {A}\)"):
        fitted.encode(np.zeros((H + 1, A)))
    bad = HELD_OUT[0].copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.encode(bad)
    with pytest.raises(ValueError, match=r"\[N, H, A\]"):
        make_tokenizer(fitted.name).fit(np.zeros((H, A)))
    with pytest.raises(ValueError, match="1-D"):
        fitted.decode(np.zeros((2, 3), dtype=np.int64))


def test_unfitted_tokenizer_says_to_fit(fitted):
    fresh = make_tokenizer(fitted.name)
    with pytest.raises(RuntimeError, match="fit"):
        fresh.encode(HELD_OUT[0])
    with pytest.raises(RuntimeError, match="fit"):
        _ = fresh.vocab_size


def test_prenormalized_inputs_are_only_clipped(fitted):
    tok = make_tokenizer(fitted.name, normalize=False).fit(np.clip(CHUNKS, -1, 1))
    np.testing.assert_array_equal(tok.normalizer.low, -1.0)
    out = tok.decode(tok.encode(np.clip(HELD_OUT[0], -1, 1)))
    assert np.abs(out - np.clip(HELD_OUT[0], -1, 1)).mean() < 0.05


def test_load_rejects_other_versions_and_missing_dirs(fitted, tmp_path):
    path = fitted.save(tmp_path / "tok")
    meta = json.loads((path / "action_tokenizer.json").read_text())
    meta["format_version"] = 99
    (path / "action_tokenizer.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="format_version 99"):
        load_tokenizer(path)
    with pytest.raises(FileNotFoundError, match="not a saved action tokenizer"):
        load_tokenizer(tmp_path / "nowhere")


def test_config_validation_messages():
    with pytest.raises(ValueError, match="n_bins"):
        make_tokenizer("bins", n_bins=1)
    with pytest.raises(ValueError, match="low_quantile < high_quantile"):
        make_tokenizer("bins", low_quantile=0.9, high_quantile=0.1)
    with pytest.raises(ValueError, match="scale"):
        FastConfig(scale=0)
    too_fine = FastTokenizer(FastConfig(scale=100.0, vocab_size=64))
    with pytest.raises(ValueError, match="raise vocab_size or lower scale"):
        too_fine.fit(CHUNKS)
    assert not too_fine.fitted


def test_bins_uses_one_token_per_value_and_fast_compresses():
    bins = make_tokenizer("bins").fit(CHUNKS)
    fast = make_tokenizer("fast").fit(CHUNKS)
    assert bins.vocab_size == 256
    assert all(len(bins.encode(c)) == H * A for c in HELD_OUT)
    assert np.mean([len(fast.encode(c)) for c in HELD_OUT]) < H * A / 2
    assert fast.vocab_size <= 1024
