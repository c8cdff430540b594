"""Size fuzzing for the fused suite: hypothesis draws sizes, a failure shrinks to the smallest."""

from harness.fuzz import fuzz_test, spec_named
from suites.fused.ops import SPECS

test_fuzz_gelu_mul_add = fuzz_test(spec_named(SPECS, "gelu_mul_add"))
test_fuzz_softmax_scaled = fuzz_test(spec_named(SPECS, "softmax_scaled"))
