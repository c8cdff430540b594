"""Size fuzzing for the matmul suite: hypothesis draws M, N, K (and B), a failure shrinks to the smallest."""

from harness.fuzz import fuzz_test, spec_named
from suites.matmul.ops import SPECS

test_fuzz_mm = fuzz_test(spec_named(SPECS, "mm"))
test_fuzz_linear_bias = fuzz_test(spec_named(SPECS, "linear_bias"))
test_fuzz_bmm = fuzz_test(spec_named(SPECS, "bmm"))
