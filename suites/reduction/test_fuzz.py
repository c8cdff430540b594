"""Size fuzzing for the reduction suite: hypothesis draws sizes, a failure shrinks to the smallest."""

from harness.fuzz import fuzz_test, spec_named
from suites.reduction.ops import SPECS

test_fuzz_sum_last = fuzz_test(spec_named(SPECS, "sum_last"))
test_fuzz_amax_last = fuzz_test(spec_named(SPECS, "amax_last"))
test_fuzz_sum_middle = fuzz_test(spec_named(SPECS, "sum_middle"))
