"""Size fuzzing for the elementwise suite: hypothesis draws sizes, a failure shrinks to the smallest."""

from harness.fuzz import fuzz_test, spec_named
from suites.elementwise.ops import SPECS

test_fuzz_add = fuzz_test(spec_named(SPECS, "add"))
test_fuzz_gelu = fuzz_test(spec_named(SPECS, "gelu"))
test_fuzz_add_broadcast_row = fuzz_test(spec_named(SPECS, "add_broadcast_row"))
