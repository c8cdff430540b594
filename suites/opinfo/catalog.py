"""PyTorch's OpInfo database (`op_db`) as npusim op specs.

Each OpInfo entry gives its sample inputs (`op.sample_inputs`). Every sample
becomes one `OpInfoSpec`: its tensors are the case's inputs, everything else
(scalars, dims, dtypes) stays a constant of the traced function, so one
torch.compile serves the sample at every size. One dim is swept dynamically
(named `N`): the last dim of the sample's first tensor, and the last dim of
every other tensor of the same size (so a broadcast keeps broadcasting). A
swept input is the sample's values repeated cyclically along that dim, so the
op's domain (positive for log, valid indices) survives; a size the op itself
rejects (eager raises) is skipped as not a size of the sample.

Left out, with why (OpInfo has no flag for either, so they are named):
* random ops: their values are not a function of their inputs, so eager
  cannot be the reference (RANDOM_OPS);
* uninitialised memory: `empty`-family outputs are whatever the allocator left
  (UNINITIALISED_OPS);
* ops with no CPU dtype at all (CUDA-only attention kernels), or marked `onlyCUDA`
  (the jiterator_* ops: CPU dtypes, but their kernel compiles for a CUDA device).
"""

from __future__ import annotations

import builtins
import functools
import logging
import math
import os
import re
import types
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils import _pytree as pytree

from harness.spec import DTYPES, OpSpec

RANDOM_OPS = frozenset({
    "bernoulli", "cauchy", "exponential", "geometric", "log_normal", "multinomial", "normal",
    "normal.in_place", "normal.number_mean", "rand_like", "randint", "randint_like", "randn", "randn_like",
    "uniform", "nn.functional.alpha_dropout", "nn.functional.dropout", "nn.functional.dropout2d",
    "nn.functional.dropout3d", "nn.functional.feature_alpha_dropout.with_train", "nn.functional.rrelu",
})
UNINITIALISED_OPS = frozenset({"empty", "empty_like", "empty_permuted", "empty_strided", "new_empty",
                               "new_empty_strided"})

# Samples per op: the first two, as a user trying op_db would (NPUSIM_OPINFO_SAMPLES overrides).
DEFAULT_SAMPLES = 2
SWEPT = "N"
# A swept size whose output would exceed this many elements is not run (an op that squares its
# input's size, like diag of a vector, would take Spike minutes at tile + 1).
MAX_SWEPT_OUTPUT = 1 << 22
# Ops whose work grows with the square of the swept dim at their samples, whatever the output: swept
# to the prime only. multilabel_margin_loss compares every class with every target class: at
# N = 8193 its kernel does 67M element steps, minutes on Spike (it timed out at 60 s, issue 17).
QUADRATIC_OPS = {"nn.functional.multilabel_margin_loss": "compares every class with every target class"}
SMALL_SWEEP = 7
# Ops that sort each row along the swept dim (compiler/sort.py: a bitonic network, n log^2 n / 4
# compare-exchanges): at N = 8193 a row is ~860k exchanges, ~4 s on a loaded Spike, and topk's sample
# has 50 rows. Sizes above SMALL_SWEEP take host values (the same kernel.mlir on the host JIT).
SORTING_OPS = {"sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "masked.median", "mode",
               "quantile", "nanquantile"}
# Families whose ops sum along the swept dim (a reduction, a norm, a pooling window, a matmul's K, a scan):
# the kernel adds into one running float, whose rounding grows about eps * N (eager sums in vector
# partials), so their atol grows with N as a hand-written spec's `summed` dims do (harness/spec.py).
# interpolate(mode="area") at N = 131079 averages 43,693-wide windows: 7e-4 off eager, rel 1.7e-4.
SUMMING_FAMILIES = frozenset({"reduction", "normalization", "loss", "conv_pool", "linalg", "scan_sort"})

# Families for the coverage report: first matching rule wins; the OpInfo class decides the rest.
_FAMILY_RULES = [
    ("fft", r"^fft\.|stft"),
    ("sparse", r"sparse|to_sparse"),
    ("linalg", r"^linalg\.|^(matmul|mm|bmm|addmm|addmv|addbmm|baddbmm|addr|mv|dot|vdot|inner|outer|ger|einsum|"
               r"tensordot|chain_matmul|kron|cholesky\w*|lu\w*|qr|svd\w*|pinverse|inverse|det|logdet|slogdet|"
               r"triangular_solve|geqrf|ormqr|cross|cov|corrcoef|matrix_exp|trace|cdist|pdist|block_diag|"
               r"nn\.functional\.(linear|bilinear)|torch\._scaled_mm.*|__rmatmul__|frexp_unused)$"),
    ("conv_pool", r"conv|pool|unfold|^nn\.functional\.fold|interpolate|upsample|grid_sample|pixel_(un)?shuffle|"
                  r"affine_grid|channel_shuffle"),
    ("scan_sort", r"^(cum\w+|logcumsumexp|sort|argsort|msort|topk|kthvalue|median|nanmedian|mode|unique\w*|"
                  r"searchsorted|bucketize|histc|histogram\w*|bincount|special\.zeta_unused)$"),
    ("indexing", r"index|gather|scatter|take|masked_(fill|scatter|select)|^put$|nonzero|argwhere|embedding|"
                 r"one_hot|^where$|diag_embed|tril_indices|triu_indices|unravel"),
    ("view", r"^(view|view_as|reshape|reshape_as|squeeze|unsqueeze|permute|transpose|t|T|H|mT|mH|adjoint|"
             r"expand|expand_as|narrow|select|split|split_with_sizes|tensor_split|hsplit|vsplit|dsplit|chunk|"
             r"unbind|movedim|moveaxis|flatten|unflatten|as_strided|diagonal|real|imag|swapaxes|swapdims|"
             r"ravel|atleast_[123]d|broadcast_to|broadcast_tensors|view_as_real|view_as_complex|conj|"
             r"resolve_conj|resolve_neg|alias_copy|\w+_copy|contiguous|clone|detach|positive|"
             r"squeeze\.multiple|unfold|flip\w*|rot90|roll|narrow_copy|select_scatter|slice\w*|"
             r"diagonal_scatter|as_strided_scatter|repeat\w*|tile|stack|[hvd]stack|column_stack|row_stack|"
             r"cat|concat|concatenate|meshgrid|tril|triu|diag|diagflat|fliplr|flipud|block_diag|"
             r"constant_pad_nd|nn\.functional\.pad)$"),  # pads move data like cat: layout ops
    # pointwise ops OpInfo does not file as ufuncs
    ("pointwise", r"^(addcmul|addcdiv|clamp|lerp|logaddexp2|nn\.functional\.(hardswish|leaky_relu|gelu|glu))$"),
    ("factory", r"^(arange|linspace|logspace|ones|zeros|full|eye|ones_like|zeros_like|full_like|new_ones|"
                r"new_zeros|new_full|scalar_tensor|signal\.windows\.\w+|tril_indices|triu_indices|"
                r"heaviside_unused)$"),
    ("loss", r"loss|cross_entropy|nll|kl_div|ctc"),
    ("normalization", r"norm|softmax|softmin|log_softmax|logsumexp|normalize|^dist$"),  # dist: a p-norm
    ("attention", r"attention"),
]


def family_of(op) -> str:
    """The op family the report groups coverage by (pointwise, reduction, view, linalg, ...)."""
    name = op.name
    for family, pattern in _FAMILY_RULES:
        if re.search(pattern, name):
            return family
    kind = type(op).__name__
    if kind in ("UnaryUfuncInfo", "BinaryUfuncInfo") or name.startswith("special.") or name.startswith("__"):
        return "pointwise"
    if kind == "ReductionOpInfo" or name in ("amax", "amin", "aminmax", "var", "std", "var_mean", "std_mean",
                                             "count_nonzero", "all", "any", "max", "min", "sum", "prod"):
        return "reduction"
    if name.startswith("nn.functional."):
        return "nn"
    return "other"


def full_name(op) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


def _sharding_excluded_reason(op) -> str | None:
    """The exclusions the shards' positions are counted without (ops-by-shard as of session 3)."""
    name = full_name(op)
    if name in RANDOM_OPS:
        return "random: values are not a function of the inputs"
    if name in UNINITIALISED_OPS:
        return "uninitialised memory: the output is whatever the allocator left"
    if not op.supported_dtypes("cpu"):
        return "no CPU dtype"
    return None


def excluded_reason(op) -> str | None:
    return _sharding_excluded_reason(op) or cuda_only_reason(op)


def cuda_only_reason(op) -> str | None:
    """OpInfo marks an op `onlyCUDA` when it has CPU dtypes but no CPU kernel: the jiterator_* ops compile
    their C++ snippet for a CUDA device (`torch.cuda.jiterator`), so eager has no CPU value to compare."""
    from torch.testing._internal.common_device_type import onlyCUDA

    if any(decorator is onlyCUDA for decorator in getattr(op, "decorators", ()) or ()):
        return "CUDA-only: OpInfo marks it onlyCUDA (no CPU kernel; jiterator ops compile for a CUDA device)"
    return None


def primary_dtype(op) -> str | None:
    """f32 where the op supports it, else an integer dtype (bitwise ops, gcd, ...)."""
    supported = op.supported_dtypes("cpu")
    for name in ("f32", "i64", "i32"):
        if DTYPES[name] in supported:
            return name
    return None


def extra_dtypes(op) -> tuple[str, ...]:
    """f16 / bf16 where the op supports them (their samples are the f32 samples, cast)."""
    supported = op.supported_dtypes("cpu")
    return tuple(name for name in ("f16", "bf16") if DTYPES[name] in supported)


@functools.cache
def op_database() -> list:
    """op_db, imported once (it takes a few seconds and needs the pinned `expecttest`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db
    return list(op_db)


def opinfo_tolerance(op, dtype: torch.dtype) -> tuple[float, float] | None:
    """OpInfo's own (rtol, atol) for `dtype`: the loosest `toleranceOverride` (a tol(atol, rtol)) or
    `precisionOverride` (an atol) among its decorators; they are per test, and values vs eager is
    closest to its test_compare_cpu and Inductor's opinfo tests. None: OpInfo gives none."""
    rtols, atols = [], []
    for decorator in getattr(op, "decorators", ()) or ():
        for inner in getattr(decorator, "decorators", [decorator]):
            table = getattr(inner, "d", None)
            if not isinstance(table, dict) or dtype not in table:
                continue
            tol = table[dtype]
            if hasattr(tol, "rtol") and hasattr(tol, "atol"):
                rtols.append(float(tol.rtol))
                atols.append(float(tol.atol))
            elif isinstance(tol, (int, float)):
                atols.append(float(tol))
    if not atols:
        return None
    return max(rtols, default=0.0), max(atols)


@dataclass
class OpInfoSpec(OpSpec):
    """One sample of one OpInfo op. `fn` rebuilds the call from the sample's tensors."""

    opinfo: str = ""               # the op's full name ("div.floor_rounding")
    sample_index: int = 0
    samples_dtype: str = "f32"     # dtype the sample was drawn at; other float dtypes are cast from it
    tensors: list = field(default_factory=list)   # the sample's tensors, as drawn
    swept: list = field(default_factory=list)     # per tensor: the swept dim index, or None
    opinfo_family: str = ""
    opinfo_tolerances: dict = field(default_factory=dict)  # dtype name -> OpInfo's (rtol, atol)
    full_sweep: bool = False       # the op's first sample with a dim to sweep: every size, f16/bf16 too
    _own_outputs: int | None = field(default=None, repr=False)
    tie_index: tuple | None = None  # TIE_INDEX_OPS: (dim, which output is the index) of this sample

    def check_values(self, actual, expected, rtol, atol, inputs) -> None:
        """An index eager leaves unspecified among equal values (TIE_INDEX_OPS) must select the
        values eager's index selects from the input; everything else as usual."""
        if self.tie_index is None:
            return super().check_values(actual, expected, rtol, atol, inputs)
        from harness.checks import check_values

        dim, position = self.tie_index
        single = isinstance(expected, torch.Tensor)
        actual_all, expected_all = ([actual], [expected]) if single else (list(actual), list(expected))
        if len(actual_all) != len(expected_all):
            raise AssertionError(f"{len(actual_all)} outputs, eager gives {len(expected_all)}")
        source = inputs[0]
        for k, (got, want) in enumerate(zip(actual_all, expected_all)):
            if k != position or source.ndim == 0:
                check_values(got, want, rtol, atol)
                continue
            if got.shape != want.shape:
                raise AssertionError(f"index output {k} has shape {tuple(got.shape)}, eager's {tuple(want.shape)}")
            d = dim % source.ndim
            if got.ndim < source.ndim:  # a reduction without keepdim
                got, want = got.unsqueeze(d), want.unsqueeze(d)
            if got.dtype != want.dtype or got.numel() and not (0 <= int(got.min()) and int(got.max()) < source.shape[d]):
                raise AssertionError(f"index output {k}: {got} is not an index into dim {d} of the input")
            check_values(source.gather(d, got), source.gather(d, want), 0, 0)

    def tolerance(self, dtype: str, sizes: dict[str, int] | None = None) -> tuple[float, float]:
        """The harness's dtype tolerance, loosened to OpInfo's own where it gives one."""
        rtol, atol = super().tolerance(dtype, sizes)
        given = self.opinfo_tolerances.get(dtype)
        return (max(rtol, given[0]), max(atol, given[1])) if given else (rtol, atol)

    def exact_reference(self, inputs: list[torch.Tensor], dtype: str):
        """A summing op's float64 value, rounded to f32: eager's own f32 sum can be off the exact value by
        more than the tolerance (torch.norm of (5, 131079): eager 3782.10, float64 3781.6020, the kernel
        3781.6023; soft_margin_loss in f16: eager's exp overflowed to inf, the kernel computes in f32 and
        gave 7.64), and a kernel that matches the exact value is not wrong. Floating outputs only, rounded
        to the case's dtype; None where the op has no float64 (eager decides)."""
        target = DTYPES[dtype]
        if self.opinfo_family not in SUMMING_FAMILIES or not target.is_floating_point:
            return None
        wide = [t.double() if t.dtype == target else t for t in inputs]
        try:
            result = self.fn(*wide)
        except Exception:
            return None
        leaves, tree = pytree.tree_flatten(result)
        if not any(isinstance(t, torch.Tensor) and t.dtype == torch.float64 for t in leaves):
            return None
        return pytree.tree_unflatten([t.to(target) if isinstance(t, torch.Tensor) and t.dtype == torch.float64 else t
                                      for t in leaves], tree)

    def make_inputs(self, sizes: dict[str, int], dtype: str, seed: int) -> list[torch.Tensor]:
        """The sample's tensors with the swept dim resized to sizes[N] (values repeated cyclically),
        floats cast to `dtype`. A swept size eager rejects is skipped: the op does not allow it."""
        target = DTYPES[dtype]
        source = DTYPES[self.samples_dtype]
        inputs = []
        for tensor, dim in zip(self.tensors, self.swept):
            value = tensor.detach()
            if dim is not None and SWEPT in sizes and sizes[SWEPT] != value.shape[dim]:
                value = resize_dim(value, dim, sizes[SWEPT])
            if value.dtype == source and source.is_floating_point and target != source:
                value = value.to(target)
            inputs.append(value.clone())
        if sizes and sizes.get(SWEPT) != own_size(self):
            import pytest

            try:  # the op's own rule for the resized sample: eager must accept it
                result = self.fn(*[t.clone() for t in inputs])
            except Exception as error:
                pytest.skip(f"not a size of this sample: eager rejects {SWEPT}={sizes.get(SWEPT)} "
                            f"({type(error).__name__}: {str(error).splitlines()[0][:120] if str(error) else ''})")
            outputs = [t for t in pytree.tree_leaves(result) if isinstance(t, torch.Tensor)]
            if self.own_output_count() not in (None, len(outputs)):  # unbind over N: N outputs
                pytest.skip(f"not a size of this sample: {SWEPT}={sizes.get(SWEPT)} gives {len(outputs)} outputs, "
                            f"its own size {self.own_output_count()} (the op's output count follows {SWEPT}, "
                            "so no one graph serves the sweep)")
            produced = sum(t.numel() for t in outputs)
            if produced > MAX_SWEPT_OUTPUT:  # diag of an 8193-vector is a 67M-element matrix
                pytest.skip(f"not a size of this sample: {SWEPT}={sizes.get(SWEPT)} makes {produced} output "
                            f"elements (the suite's sweeps stay below {MAX_SWEPT_OUTPUT})")
        return inputs


    def own_output_count(self) -> int | None:
        """How many tensors the op returns on the sample as drawn (None: eager raises on it)."""
        if self._own_outputs is None:
            try:
                result = self.fn(*[t.detach().clone() for t in self.tensors])
            except Exception:
                self._own_outputs = -1
            else:
                self._own_outputs = sum(isinstance(t, torch.Tensor) for t in pytree.tree_leaves(result))
        return None if self._own_outputs < 0 else self._own_outputs


def resize_dim(tensor: torch.Tensor, dim: int, size: int) -> torch.Tensor:
    """`tensor` with dim `dim` of length `size`, its values repeated cyclically along it."""
    length = tensor.shape[dim]
    if length == 0:
        shape = list(tensor.shape)
        shape[dim] = size
        return torch.zeros(shape, dtype=tensor.dtype)
    index = torch.arange(size) % length
    return tensor.index_select(dim, index).contiguous()


def sweep_dims(tensors: list[torch.Tensor], call=None) -> list[int | None]:
    """Which dim of each tensor is swept: the last dim of the first tensor with a last dim of at least 2,
    and the last dim of every other tensor with the same size there (a broadcast keeps broadcasting).
    None: not swept. With the op's `call`, a same-size last dim that is not a broadcast of the swept
    one (batch_norm's weight of C = 5 beside an input (5, 5, 5): it pairs with dim 1) is left alone:
    the op's shape rules (fake tensors, as Dynamo traces it) must accept the sweep of all of them."""
    primary = next((t for t in tensors if t.dim() >= 1 and t.shape[-1] >= 2), None)
    if primary is None:
        return [None] * len(tensors)
    size = primary.shape[-1]
    broadcast = [t.dim() - 1 if t.dim() >= 1 and t.shape[-1] == size else None for t in tensors]
    same_shape = [t.dim() - 1 if t.shape == primary.shape else None for t in tensors]
    if call is None or broadcast == same_shape or _shapes_accept(call, tensors, broadcast, size + 2) \
            or not _shapes_accept(call, tensors, same_shape, size + 2):
        return broadcast
    return same_shape


def _shapes_accept(call, tensors: list[torch.Tensor], swept: list[int | None], size: int) -> bool:
    """Whether the op's shape rules accept the tensors with the swept dims at `size` (on fake tensors:
    eager's CPU kernels skip some checks, batch_norm reads a weight of the wrong length)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    resized = [resize_dim(t, d, size) if d is not None else t for t, d in zip(tensors, swept)]
    log = logging.getLogger("torch._subclasses.fake_tensor")  # it logs every rejection as an error
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), FakeTensorMode() as mode:
            warnings.simplefilter("ignore")
            call(*[mode.from_tensor(t) for t in resized])
    except Exception:
        return False
    finally:
        log.setLevel(level)
    return True


def _shape_text(tensor: torch.Tensor, dim: int | None) -> str:
    return ",".join(SWEPT if d == dim else str(n) for d, n in enumerate(tensor.shape))


def _sample_call(*tensors):
    values = list(_constants)
    for position, tensor in zip(_tensor_positions, tensors):
        values[position] = tensor
    sample_input, args, kwargs = pytree.tree_unflatten(values, _spec_tree)
    return _op_fn(sample_input, *args, **kwargs)


def _call_fn(op_fn, spec_tree, leaves, tensor_positions):
    """A function of the sample's tensors that makes the op's call with its constants in place.

    The constants are globals of the function, not a closure: Dynamo makes a closure's int a SymInt under
    dynamic=True but keeps a global int a constant, as it keeps the literal arguments of a user's call
    (max_pool2d_with_indices_backward's kernel_size=3 became a SymInt its int[2] schema refused)."""
    positions = set(tensor_positions)
    namespace = {"__builtins__": builtins, "pytree": pytree, "_op_fn": op_fn, "_spec_tree": spec_tree,
                 "_tensor_positions": tuple(tensor_positions),
                 "_constants": tuple(None if i in positions else leaf for i, leaf in enumerate(leaves))}
    return types.FunctionType(_sample_call.__code__, namespace, "call")


def spec_name(op, index: int) -> str:
    # pytest ids: the op name (dots kept, brackets and dashes not allowed by the harness's ids)
    return re.sub(r"[\[\]\-\s]", "_", full_name(op)) + f".s{index}"


def samples_per_op() -> int:
    return int(os.environ.get("NPUSIM_OPINFO_SAMPLES", DEFAULT_SAMPLES))


def selected_ops() -> list:
    """op_db minus the excluded ops, narrowed by NPUSIM_OPINFO_OPS (comma-separated full names)
    and NPUSIM_OPINFO_SHARD ("k/n": every n-th op from the k-th, 0-based)."""
    # shards are positions among the ops less the first exclusions, so a later exclusion (CUDA-only) leaves
    # every other op in its shard and its expectations fresh
    ops = [op for op in op_database() if _sharding_excluded_reason(op) is None]
    wanted = os.environ.get("NPUSIM_OPINFO_OPS")
    if wanted:
        names = {n.strip() for n in wanted.split(",") if n.strip()}
        ops = [op for op in ops if full_name(op) in names]
    shard = os.environ.get("NPUSIM_OPINFO_SHARD")
    if shard:
        k, n = (int(x) for x in shard.split("/"))
        ops = ops[k::n]
    return [op for op in ops if cuda_only_reason(op) is None]


def specs_of(op, samples: int | None = None) -> list[OpInfoSpec]:
    """The op's first `samples` samples as specs; an op whose samples cannot be drawn gets none."""
    dtype = primary_dtype(op)
    if dtype is None:
        return []
    samples = samples_per_op() if samples is None else samples
    drawn = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sample in op.sample_inputs("cpu", DTYPES[dtype], requires_grad=False):
            drawn.append(sample)
            if len(drawn) >= samples:
                break
    specs = []
    family = family_of(op)
    kept = []
    for index, sample in enumerate(drawn):
        leaves, tree = pytree.tree_flatten((sample.input, tuple(sample.args), dict(sample.kwargs)))
        positions = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
        tensors = [leaves[i] for i in positions]
        if any(t.layout != torch.strided or t.is_complex() for t in tensors):
            continue  # sparse and complex tensors: npusim kernels take dense real buffers
        kept.append((index, leaves, tree, positions, tensors,
                     sweep_dims(tensors, _call_fn(op.op, tree, leaves, positions))))
    # the sweep and the other dtypes go to the first sample with a dim to sweep (else the first)
    full = next((k[0] for k in kept if any(d is not None for d in k[5])), kept[0][0] if kept else None)
    for index, leaves, tree, positions, tensors, swept in kept:
        dtypes = (dtype,) + (extra_dtypes(op) if dtype == "f32" and index == full else ())
        tolerances = {name: opinfo_tolerance(op, DTYPES[name]) for name in dtypes}
        specs.append(OpInfoSpec(
            name=spec_name(op, index), fn=_call_fn(op.op, tree, leaves, positions),
            inputs=[_shape_text(t, d) for t, d in zip(tensors, swept)], dtypes=dtypes,
            family="opinfo", opinfo=full_name(op), sample_index=index, samples_dtype=dtype,
            tensors=tensors, swept=swept, opinfo_family=family, full_sweep=index == full,
            summed=(SWEPT,) if family in SUMMING_FAMILIES and any(d is not None for d in swept) else (),
            opinfo_tolerances={name: tol for name, tol in tolerances.items() if tol},
            tie_index=tie_index(full_name(op), drawn[index])))
    return specs


# Ops whose index output eager leaves unspecified among equal values (its CPU sort is unstable,
# median/kthvalue/mode pick any tied element; the docs say so): the swept inputs repeat the
# sample's values, so they have ties. Op -> (position of `dim` in the sample's args, index output).
TIE_INDEX_OPS = {"sort": (0, 1), "argsort": (0, 0), "topk": (1, 1), "kthvalue": (1, 1), "median": (0, 1),
                 "nanmedian": (0, 1), "mode": (0, 1)}


def tie_index(op_name: str, sample) -> tuple | None:
    if op_name not in TIE_INDEX_OPS:
        return None
    position, output = TIE_INDEX_OPS[op_name]
    dim = sample.kwargs.get("dim", sample.args[position] if len(sample.args) > position else -1)
    if op_name in ("median", "nanmedian") and "dim" not in sample.kwargs and len(sample.args) <= position:
        return None  # median of all elements: a value, no index
    return (int(dim), output)


def own_size(spec: OpInfoSpec) -> int | None:
    """The swept dim's size in the sample as drawn (None: nothing is swept)."""
    for tensor, dim in zip(spec.tensors, spec.swept):
        if dim is not None:
            return int(tensor.shape[dim])
    return None


def swept_sizes(spec: OpInfoSpec, tile: int, dtype: str = "f32") -> list[tuple[int, bool]]:
    """(size, host values) of the swept dim. The op's first sample with a dim to sweep: its own size
    first (it compiles the op's one graph), then 1, a prime, tile + 1 and a large size (host values:
    Spike would take minutes); other samples: their own size and tile + 1; f16/bf16 (cast from the
    f32 sample): the own size; a QUADRATIC_OPS op: nothing above SMALL_SWEEP but its own size.
    Independent of --sizes, so one expectations file serves every run."""
    own = own_size(spec)
    if own is None:
        return []
    if dtype != spec.samples_dtype:
        return [(own, False)]
    large = 16 * tile + 7
    wanted = [(1, False), (7, False), (tile + 1, False)] if spec.full_sweep else [(tile + 1, False)]
    if spec.full_sweep and max(t.numel() for t in spec.tensors) // own * large <= MAX_SWEPT_OUTPUT:
        wanted.append((large, True))
    if spec.opinfo in QUADRATIC_OPS:
        wanted = [(size, host) for size, host in wanted if size <= SMALL_SWEEP]
    if spec.opinfo in SORTING_OPS:
        wanted = [(size, host or size > SMALL_SWEEP) for size, host in wanted]
    sizes = [(own, False)]
    for size, host in wanted:
        if size not in [s for s, _ in sizes]:
            sizes.append((size, host))
    return sizes
