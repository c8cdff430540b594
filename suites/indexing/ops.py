"""Indexing: embedding, index_select, gather, x[idx] (element gathers at data-dependent addresses,
bit-exact; indices drawn in range of the indexed dim, `gathered` keeps the table out of the
floor's bytes), index_put / `x[idx] = v` (element scatters: distinct indices without accumulate,
where eager leaves the winner of duplicates undefined; duplicates summed in order with accumulate,
and at N = 1 every index is 0), argmax/argmin (index results, bit-exact; values="int" draws many ties, the first
index must win), scans (cumsum/cumprod in eager's order and accumulate type: bit-exact; cummax/cummin
with their indices), row sorts (sort/argsort/topk/median: stable, bit-exact), var/std
over any dim; 2-D and 3-D, every dynamic dim swept through its tails. A reduction or scan over a
middle/first dim keeps a static last dim here: until reductions over a non-last dim are tiled
(issue 12 item 6) it runs one row per output element, minutes on Spike at a last dim of 8k."""

import torch
import torch.nn.functional as F

from compiler.sort import ROW_CAPACITY
from harness.sizes import Sweep, sweeps
from harness.spec import DTYPE_BITS, OpSpec

EXACT = dict(rtol=0, atol=0)


def setitem_cols(x, i, v):
    x = x.clone()
    x[:, i] = v
    return x


# The row sorts' sorted dim: its sweep stops at the sort's row buffer (compiler/sort.py ROW_CAPACITY).
# A longer row is a KernelIndexError by design (tests/compiler/test_sort.py), not a case: the f16/bf16
# sweep's large size (16 tiles of 16,384 + 7 = 262,151) is past it, the f32/i32 one (131,079) is not.
SORTED_DIM = {"sort_last": "N", "sort_ties_descending": "N", "argsort_first_dim": "N", "sort_lowp": "N",
              "topk_last": "N", "median_last": "N"}


def sweeps_of(spec: OpSpec, dtype: str, policy: str, config) -> list[Sweep]:
    """The size policy's sweeps (harness/collect.py), a row sort's points past its row buffer left out."""
    result = sweeps(spec.dims(), config, policy, elem_bits=DTYPE_BITS[dtype], size_tile=spec.size_tile)
    dim = SORTED_DIM.get(spec.name)
    if dim is None:
        return result
    return [Sweep(s.dim, tuple(p for p in s.points if dict(p).get(dim, 0) <= ROW_CAPACITY)) for s in result]


SPECS = [
    # searchsorted/bucketize (compiler/search.py): a binary search per element over boundaries made
    # sorted by a cumsum (with ties where |b| rounds alike); values spread across them; bit-exact
    OpSpec("searchsorted", lambda b, v: torch.searchsorted(b.abs().cumsum(0), v * 8), inputs=["N", "M"], **EXACT),
    OpSpec("searchsorted_rows", lambda b, v: torch.searchsorted(b.abs().cumsum(-1), v * 4, right=True),
           inputs=["4,N", "4,M"], **EXACT),
    OpSpec("bucketize_right", lambda x, b: torch.bucketize(x * 8, b.abs().cumsum(0), right=True, out_int32=True),
           inputs=["N", "M"], **EXACT),
    OpSpec("embedding", lambda w, i: F.embedding(i, w), inputs=["V,16", "N"], values=["normal", "index:V"],
           gathered=(0,), **EXACT),
    OpSpec("embedding_3d", lambda w, i: F.embedding(i, w), inputs=["5,D", "B,N"], values=["normal", "index:5"],
           gathered=(0,), **EXACT),
    OpSpec("embedding_lowp", lambda w, i: F.embedding(i, w), inputs=["V,8", "N"], values=["normal", "index:V"],
           dtypes=("f16", "bf16"), gathered=(0,), **EXACT),
    OpSpec("index_select_rows", lambda w, i: w.index_select(0, i), inputs=["V,M", "N"],
           values=["normal", "index:V"], gathered=(0,), **EXACT),
    OpSpec("index_select_cols", lambda w, i: w.index_select(1, i), inputs=["M,V", "N"],
           values=["normal", "index:V"], gathered=(0,), **EXACT),
    OpSpec("gather_last", lambda w, i: w.gather(1, i), inputs=["M,V", "M,N"], values=["normal", "index:V"],
           gathered=(0,), **EXACT),
    OpSpec("getitem_rows", lambda w, i: w[i] * 2, inputs=["V,8", "N"], values=["normal", "index:V"],
           gathered=(0,), **EXACT),
    OpSpec("index_put", lambda x, i, v: x.index_put((i,), v), inputs=["N,4", "N", "N,4"],
           values=["normal", "perm:N", "normal"], **EXACT),
    OpSpec("index_put_accumulate", lambda x, i, v: x.index_put((i,), v, accumulate=True),
           inputs=["N,4", "M", "M,4"], values=["normal", "index:N", "normal"], summed=("M",)),
    OpSpec("setitem_cols", setitem_cols, inputs=["M,N", "N", "M,N"], values=["normal", "perm:N", "normal"], **EXACT),
    # scatter and index_copy with distinct indices (eager leaves duplicates undefined); scatter_add
    # and index_add sum duplicates in order
    OpSpec("scatter_row", lambda x, i, v: x.scatter(1, i, v), inputs=["M,N", "1,N", "1,N"],
           values=["normal", "perm:N", "normal"], **EXACT),
    OpSpec("scatter_add_cols", lambda x, i, v: x.scatter_add(1, i, v), inputs=["M,N", "M,7", "M,7"],
           values=["normal", "index:N", "normal"]),
    OpSpec("index_add_rows", lambda x, i, v: x.index_add(0, i, v), inputs=["N,4", "M", "M,4"],
           values=["normal", "index:N", "normal"], summed=("M",)),
    OpSpec("index_copy_rows", lambda x, i, v: x.index_copy(0, i, v), inputs=["N,4", "N", "N,4"],
           values=["normal", "perm:N", "normal"], **EXACT),
    OpSpec("argmax_last", lambda x: x.argmax(-1), inputs=["M,N"], values="int"),
    OpSpec("argmin_last", lambda x: x.argmin(-1), inputs=["M,N"], values="int"),
    OpSpec("argmax_last_lowp", lambda x: x.argmax(-1), inputs=["M,N"], dtypes=("f16", "bf16", "i32")),
    OpSpec("argmax_middle", lambda x: x.argmax(1), inputs=["B,M,16"], values="int"),
    OpSpec("argmin_all", lambda x: x.argmin(), inputs=["M,N"]),
    OpSpec("argmax_edges", lambda x: x.argmax(-1), inputs=["M,N"], values="edge"),  # NaN wins, like eager
    # row sorts (compiler/sort.py): values and indices bit-exact, ties in stable order ("int" draws
    # many); a row of 8k is ~1M compare-exchanges (seconds on Spike): larger cases take host values
    OpSpec("sort_last", lambda x: torch.sort(x, dim=-1, stable=True), inputs=["M,N"], values="edge",
           host_values_above=4096, **EXACT),
    OpSpec("sort_ties_descending", lambda x: torch.sort(x, dim=-1, descending=True, stable=True), inputs=["M,N"],
           values="int", host_values_above=4096, **EXACT),
    OpSpec("argsort_first_dim", lambda x: torch.argsort(x, dim=0, stable=True), inputs=["N,5"], values="int",
           host_values_above=4096, **EXACT),
    OpSpec("sort_lowp", lambda x: torch.sort(x, dim=-1, stable=True), inputs=["M,N"], dtypes=("f16", "bf16", "i32"),
           values="int", host_values_above=4096, **EXACT),
    OpSpec("topk_last", lambda x: torch.topk(x, 1, -1), inputs=["M,N"], host_values_above=4096, **EXACT),
    OpSpec("median_last", lambda x: torch.median(x, -1), inputs=["M,N"], host_values_above=4096, **EXACT),
    OpSpec("cummax_last", lambda x: torch.cummax(x, -1), inputs=["M,N"], values="int", **EXACT),
    OpSpec("cummin_edges", lambda x: torch.cummin(x, -1), inputs=["M,N"], values="edge", **EXACT),
    OpSpec("cumsum_last", lambda x: torch.cumsum(x, -1), inputs=["M,N"], **EXACT),
    OpSpec("cumsum_1d", lambda x: torch.cumsum(x, 0), inputs=["N"], **EXACT),
    OpSpec("cumsum_lowp", lambda x: torch.cumsum(x, -1), inputs=["M,N"], dtypes=("f16", "bf16"), **EXACT),
    OpSpec("cumsum_int", lambda x: torch.cumsum(x, -1), inputs=["M,N"], dtypes=("i32", "i64")),
    OpSpec("cumsum_middle", lambda x: torch.cumsum(x, 1), inputs=["B,M,16"], **EXACT),
    OpSpec("cumsum_3d_last", lambda x: torch.cumsum(x, -1), inputs=["B,M,N"], **EXACT),
    OpSpec("cumprod_last", lambda x: torch.cumprod(x, -1), inputs=["M,N"], values="unit", **EXACT),
    OpSpec("var_last", lambda x: torch.var(x, -1), inputs=["M,N"], rtol=1e-4, atol=1e-5),
    OpSpec("var_first_c0", lambda x: torch.var(x, 0, correction=0), inputs=["N,16"], rtol=1e-4, atol=1e-5),
    OpSpec("std_middle", lambda x: torch.std(x, 1), inputs=["B,M,16"], rtol=1e-4, atol=1e-5),
    OpSpec("std_3d_last", lambda x: torch.std(x, -1), inputs=["B,M,N"], rtol=1e-4, atol=1e-5),
    OpSpec("std_all_c0", lambda x: torch.std(x, correction=0), inputs=["M,N"], rtol=1e-4, atol=1e-5),
]
