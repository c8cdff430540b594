"""One small input per bug found in review, kept as tests (values from the host JIT)."""

from __future__ import annotations

import pytest
import torch


def compiled(fn):
    return torch.compile(fn, backend="npusim", dynamic=True)


def test_input_mutated_in_place_is_read_not_zeroed(npusim_env):
    def fn(x):
        x.add_(1)
        return x * 2

    x = torch.randn(5, 6)
    x_eager = x.clone()
    torch.testing.assert_close(compiled(fn)(x), fn(x_eager))
    torch.testing.assert_close(x, x_eager)


def test_in_place_update_of_a_slice_keeps_the_rest(npusim_env):
    def fn(x):
        x[:, 1:3].mul_(2)
        return x.sum(-1)

    x = torch.randn(5, 6)
    x_eager = x.clone()
    result = compiled(fn)(x)
    torch.testing.assert_close(result, fn(x_eager))
    torch.testing.assert_close(x, x_eager)


def test_output_view_into_a_shared_buffer(npusim_env):
    """cat along the last dim: each kernel writes a strided view of one buffer; neither may clobber the other."""
    def fn(a, b):
        return torch.cat([a + 1, b * 2], dim=-1)

    a, b = torch.arange(8.0).reshape(2, 4), torch.arange(100.0, 106.0).reshape(2, 3)
    torch.testing.assert_close(compiled(fn)(a, b), fn(a, b))


@pytest.mark.parametrize("name, fn", [
    ("maximum", lambda a, b: torch.maximum(a, b)),
    ("floordiv", lambda a, b: a // (b | 1)),
    ("mod", lambda a, b: a % (b | 1)),
    ("rshift", lambda a, b: a >> (b % 8)),
    ("amax", lambda a, b: a.amax(-1)),
    ("amin", lambda a, b: a.amin(-1)),
])
def test_uint8_is_unsigned(npusim_env, name, fn):
    gen = torch.Generator().manual_seed(1)
    a = torch.randint(0, 256, (3, 37), generator=gen, dtype=torch.uint8)
    b = torch.randint(0, 256, (3, 37), generator=gen, dtype=torch.uint8)
    torch.testing.assert_close(compiled(fn)(a, b), fn(a, b))


def test_bool_maximum_minimum(npusim_env):
    a = torch.tensor([True, False, True, False] * 10)
    b = torch.tensor([True, True, False, False] * 10)
    fn = lambda x, y: (torch.maximum(x, y), torch.minimum(x, y))  # noqa: E731
    for got, expected in zip(compiled(fn)(a, b), fn(a, b)):
        torch.testing.assert_close(got, expected)


def test_float_of_a_size_symbol_is_computed_in_the_kernel(npusim_env):
    """scaled_dot_product_attention scales by 1/sqrt(head_dim); with the head dim dynamic that
    scale is a float index expression (FloatPow(FloatTrueDiv(1.0, FloatPow(ToFloat(s), 0.5)), 0.5)),
    which was refused as `index:FloatPow`."""
    def attention(q, k, v):
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    compiled = torch.compile(attention, backend="npusim", dynamic=True)
    for seq, head in ((5, 8), (9, 6)):
        q, k, v = (torch.randn(1, 2, seq, head) for _ in range(3))
        torch.testing.assert_close(compiled(q, k, v), attention(q, k, v), rtol=1e-4, atol=1e-5)
    scaled = torch.compile(lambda x: x * x.shape[-1] ** -0.5 + x.shape[0] / 3, backend="npusim", dynamic=True)
    for shape in ((4, 7), (3, 10)):
        x = torch.randn(shape)
        torch.testing.assert_close(scaled(x), x * shape[-1] ** -0.5 + shape[0] / 3)


@pytest.mark.parametrize("shift, dims", [(2, 1), (5, 1), (-3, 1), ((1, -2), (0, 1)), (4, None)])
def test_roll_including_shifts_past_the_size(npusim_env, shift, dims):
    """roll's index (i + (s - shift) % s) % s was refused (a bounds check of a non-indirect index);
    once lowered, a shift past the size gives a negative dividend, where remsi differs from
    Python's % (size 3, shift 5)."""
    def roll(x):
        return torch.roll(x, shift, dims)

    fn = compiled(roll)
    for n in (1, 3, 7, 11):
        x = torch.randn(3, n)
        assert torch.equal(fn(x), roll(x)), n


@pytest.mark.parametrize("mode, pad", [("reflect", (2, 2)), ("replicate", (1, 3)), ("circular", (2, 1)),
                                       ("reflect", (1, 2, 2, 1))])
def test_reflect_replicate_circular_pad_compile_once(npusim_env, mode, pad):
    """Mirrored padding indexes |i - p| under a Where on its sign: the index printer refused
    `index:Where` / Abs."""
    from npusim import runlog

    def padded(x):
        return torch.nn.functional.pad(x, pad, mode=mode)

    fn = compiled(padded)
    for n in (3, 4, 9):
        x = torch.randn(1, 2, n, n + 2) if len(pad) == 4 else torch.randn(1, 2, n + 1)
        assert torch.equal(fn(x), padded(x)), n
    assert len({e["kernel_hash"] for e in runlog.events("compile", npusim_env)}) == 1
