"""Dense linear algebra as npusim kernels (compiler/linalg.py): LU with partial pivoting, triangular
and LU solves, Cholesky; values against eager (pivots and info exact), one compile across sizes,
the factorisation's info checked by the kernel, cycles from the trace of the same kernel."""

from __future__ import annotations

import pytest
import torch

from npusim import runlog
from simulator.functional.errors import KernelIndexError

TOL = dict(rtol=1e-4, atol=1e-4)


def _assert_outputs(got, expected, exact=()):
    got = got if isinstance(got, tuple) else (got,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(got) == len(expected)
    for index, (g, e) in enumerate(zip(got, expected)):
        if e.dtype in (torch.int32, torch.int64) or index in exact:
            assert torch.equal(g, e), (index, g, e)
        else:
            torch.testing.assert_close(g, e, **TOL)


def _compiles(env, name: str) -> list:
    return [e for e in runlog.events("compile", env) if e["kernel"] == name]


def _launches(env, name: str) -> list:
    return [e for e in runlog.events("launch", env) if e["kernel"] == name]


def _spd(n: int, batch=()) -> torch.Tensor:
    x = torch.randn(*batch, n, n)
    return x @ x.mT + n * torch.eye(n)


@pytest.mark.spike
def test_lu_factor_on_spike_one_compile_pivots_exact(spike_env):
    torch.manual_seed(0)
    fn = torch.linalg.lu_factor_ex
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    # OpInfo's sample (3, 5) swept along its last dim: a column tile of its own past 128 columns;
    # then a square and a tall matrix
    shapes = [(3, 5), (3, 7), (3, 300), (16, 16), (32, 32), (9, 4)]
    for shape in shapes:
        a = torch.randn(shape)
        _assert_outputs(compiled(a), fn(a))
    assert len(_compiles(spike_env, "lu_factor")) == 1
    launches = _launches(spike_env, "lu_factor")
    assert [e["functional"] for e in launches] == ["spike"] * len(shapes)
    cycles = [e["cycles"] for e in launches]
    assert all(c > 0 for c in cycles)
    # more columns, more work: the trace counts the panel's and the trailing tile's compute ops
    assert cycles[0] <= cycles[1] < cycles[2] and cycles[3] < cycles[4]


@pytest.mark.spike
def test_singular_matrix_info_exact_and_checked(spike_env):
    a = torch.randn(5, 5)
    a[:, 2] = 0
    a[3] = 2 * a[1]
    ex = torch.compile(torch.linalg.lu_factor_ex, backend="npusim", dynamic=True)
    _assert_outputs(ex(a), torch.linalg.lu_factor_ex(a))
    assert int(torch.linalg.lu_factor_ex(a).info) == 3
    # linalg.lu_factor checks info (eager's _linalg_check_errors): the kernel reports it
    checked = torch.compile(torch.linalg.lu_factor, backend="npusim", dynamic=True)
    with pytest.raises(Exception, match="singular"):
        checked(a)


@pytest.mark.parametrize("name, fn, make", [
    ("det", torch.linalg.det, lambda n: (torch.randn(n, n),)),
    ("slogdet", torch.linalg.slogdet, lambda n: (torch.randn(2, n, n),)),
    ("logdet", torch.logdet, lambda n: (_spd(n),)),
    ("inv", torch.linalg.inv, lambda n: (torch.randn(n, n) + n * torch.eye(n),)),
    ("solve vector", torch.linalg.solve, lambda n: (torch.randn(n, n) + n * torch.eye(n), torch.randn(n))),
    ("solve right", lambda a, b: torch.linalg.solve(a, b, left=False),
     lambda n: (torch.randn(n, n) + n * torch.eye(n), torch.randn(3, n))),
    ("solve_triangular right", lambda a, b: torch.linalg.solve_triangular(a, b, upper=True, left=False),
     lambda n: ((torch.randn(n, n) + n * torch.eye(n)).triu(), torch.randn(2, n))),
    ("triangular_solve transposed", lambda b, a: torch.triangular_solve(b, a, transpose=True, unitriangular=True),
     lambda n: (torch.randn(n, 2), torch.randn(n, n))),
    ("lu_solve adjoint", lambda a, b: torch.linalg.lu_solve(*torch.linalg.lu_factor(a), b, adjoint=True),
     lambda n: (torch.randn(n, n) + n * torch.eye(n), torch.randn(n, 3))),
    ("linalg.lu (permutation from the pivots)", torch.linalg.lu, lambda n: (torch.randn(2, n, n + 1),)),
    ("lu_unpack", lambda a: torch.lu_unpack(*torch.linalg.lu_factor(a)), lambda n: (torch.randn(n, 4),)),
    ("eigvalsh (Jacobi)", lambda a: torch.linalg.eigvalsh(a, UPLO="U"), lambda n: (torch.randn(2, n, n),)),
    ("matrix_rank hermitian", lambda a: torch.linalg.matrix_rank(a, hermitian=True),
     lambda n: (_spd(n)[:, :3] @ _spd(n)[:3],)),
    ("cholesky upper", lambda a: torch.linalg.cholesky(a, upper=True), lambda n: (_spd(n, (2,)),)),
    ("cholesky_solve", torch.cholesky_solve, lambda n: (torch.randn(n, 2), torch.linalg.cholesky(_spd(n)))),
    ("cholesky_inverse upper", lambda l: torch.cholesky_inverse(l, upper=True),
     lambda n: (torch.linalg.cholesky(_spd(n), upper=True),)),
])
def test_linalg_ops_one_compile_across_sizes(npusim_env, name, fn, make):
    torch.manual_seed(1)
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for n in (5, 7):
        args = make(n)
        _assert_outputs(compiled(*args), fn(*args))
    graphs = runlog.events("dynamo_graph", npusim_env)
    assert len(graphs) == 1, graphs  # n = 7 reuses the n = 5 graph
    assert runlog.events("launch", npusim_env)


@pytest.mark.spike
def test_cholesky_on_spike_info_exact(spike_env):
    torch.manual_seed(2)
    fn = torch.linalg.cholesky_ex
    compiled = torch.compile(fn, backend="npusim", dynamic=True)
    for a in (_spd(5), _spd(9), -_spd(6)):  # the last is not positive-definite: info = 1
        _assert_outputs(compiled(a), fn(a))
    assert len(_compiles(spike_env, "cholesky")) == 1
    with pytest.raises(Exception, match="not positive-definite"):
        torch.compile(torch.linalg.cholesky, backend="npusim", dynamic=True)(-_spd(5))


def test_more_rows_than_the_panel_is_reported(npusim_env):
    compiled = torch.compile(torch.linalg.lu_factor_ex, backend="npusim", dynamic=True)
    compiled(torch.randn(4, 6))
    with pytest.raises(KernelIndexError, match="scratchpad panel"):
        compiled(torch.randn(130, 3))


def test_eigenvectors_are_refused_by_name(npusim_env):
    from compiler.errors import find_unsupported

    compiled = torch.compile(lambda a: torch.linalg.eigh(a)[1], backend="npusim", dynamic=True)
    with pytest.raises(Exception) as error:
        compiled(torch.randn(4, 4))
    refusal = find_unsupported(error.value)
    assert refusal is not None and refusal.op == "_linalg_eigh"


def test_lu_without_pivoting_is_refused_by_name(npusim_env):
    from compiler.errors import find_unsupported

    compiled = torch.compile(lambda a: torch.linalg.lu_factor_ex(a, pivot=False), backend="npusim", dynamic=True)
    with pytest.raises(Exception) as error:
        compiled(torch.randn(4, 4))
    refusal = find_unsupported(error.value)
    assert refusal is not None and refusal.op == "linalg_lu_factor_ex"
