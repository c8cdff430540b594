"""Size fuzzing for the normalization suite: hypothesis draws sizes, a failure shrinks to the smallest."""

from harness.fuzz import fuzz_test, spec_named
from suites.normalization.ops import SPECS

test_fuzz_softmax = fuzz_test(spec_named(SPECS, "softmax"))
test_fuzz_layer_norm = fuzz_test(spec_named(SPECS, "layer_norm"))
