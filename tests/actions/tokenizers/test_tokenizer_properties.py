"""Property tests: round-trip error bounds and decoding of arbitrary id sequences."""

from functools import cache

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hivla.actions.synthetic import smooth_chunks
from hivla.actions.tokenizers import TOKENIZERS, make_tokenizer

H, A = 8, 3
FLOAT32_SLACK = 1e-4  # decode returns float32; normalization then adds a little rounding


@cache
def fitted(name: str, **kwargs):
    return make_tokenizer(name, **kwargs).fit(smooth_chunks(300, H, A, seed=3))


def chunks_in_range(tok):
    low, high = tok.normalizer.low, tok.normalizer.high
    unit = arrays(np.float64, (H, A), elements=st.floats(0.0, 1.0))
    return unit.map(lambda u: low + u * (high - low))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_bins_round_trip_within_half_a_bin(data):
    tok = fitted("bins")
    chunk = data.draw(chunks_in_range(tok))
    err = np.abs(tok.normalize(tok.decode(tok.encode(chunk))) - tok.normalize(chunk))
    assert err.max() <= 1.0 / 256 + FLOAT32_SLACK  # half a bin of width 2/256


@settings(max_examples=60, deadline=None)
@given(data=st.data(), scale=st.sampled_from([5.0, 10.0, 50.0]))
def test_fast_round_trip_within_rounding_tolerance(data, scale):
    tok = fitted("fast", scale=scale)
    chunk = data.draw(chunks_in_range(tok))
    err = np.abs(tok.normalize(tok.decode(tok.encode(chunk))) - tok.normalize(chunk))
    # Rounding moves each coefficient by <= 0.5/scale; the orthonormal inverse DCT spreads that
    # over a column with L2 norm <= sqrt(H) * 0.5/scale, which bounds every single value.
    assert err.max() <= 0.5 * np.sqrt(H) / scale + FLOAT32_SLACK


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(TOKENIZERS.names()), ids=st.lists(st.integers(), max_size=120))
def test_any_python_int_sequence_decodes_to_a_valid_chunk(name, ids):
    tok = fitted(name)
    out = tok.decode(ids)
    assert out.shape == (H, A) and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert np.all(out >= tok.normalizer.low.astype(np.float32) - 1e-5)
    assert np.all(out <= tok.normalizer.high.astype(np.float32) + 1e-5)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(TOKENIZERS.names()),
    ids=arrays(np.int64, st.integers(0, 200), elements=st.integers(-(2**63), 2**63 - 1)),
)
def test_any_int64_array_decodes_to_a_valid_chunk(name, ids):
    out = fitted(name).decode(ids)
    assert out.shape == (H, A) and np.all(np.isfinite(out))


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(TOKENIZERS.names()), data=st.data())
def test_truncated_encodings_decode_to_a_valid_chunk(name, data):
    tok = fitted(name)
    ids = tok.encode(smooth_chunks(1, H, A, seed=data.draw(st.integers(0, 10_000)))[0])
    cut = data.draw(st.integers(0, len(ids)))
    out = tok.decode(ids[:cut])
    assert out.shape == (H, A) and np.all(np.isfinite(out))


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(TOKENIZERS.names()),
    ids=st.lists(st.one_of(st.floats(), st.none(), st.integers(-5, 300)), max_size=60),
)
def test_non_integer_entries_are_skipped_not_fatal(name, ids):
    out = fitted(name).decode(ids)
    assert out.shape == (H, A) and np.all(np.isfinite(out))
