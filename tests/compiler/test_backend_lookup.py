"""backend="npusim" resolves however the user reaches it: through the installed entry point with
nothing imported (the first command of the README's mission), after `import compiler`, or after
Dynamo listed its backends. Each order runs in a fresh interpreter, since the registry is global."""

from __future__ import annotations

import subprocess
import sys

import pytest

ORDERS = {
    "entry_point_only": "",
    "import_compiler_first": "import compiler\n",
    "list_backends_then_import": "from torch._dynamo import list_backends\nlist_backends()\nimport compiler\n",
}


@pytest.mark.parametrize("prelude", list(ORDERS.values()), ids=list(ORDERS))
def test_backend_lookup_by_name_in_a_fresh_interpreter(prelude):
    script = prelude + (
        "import torch._dynamo\n"
        "from compiler.backend import npusim_backend\n"
        "assert torch._dynamo.lookup_backend('npusim') is npusim_backend\n")
    # Without `import compiler` first the lookup itself imports the package (the entry point).
    if not prelude:
        script = ("import torch._dynamo, sys\n"
                  "fn = torch._dynamo.lookup_backend('npusim')\n"
                  "assert 'compiler' in sys.modules\n"
                  "from compiler.backend import npusim_backend\n"
                  "assert fn is npusim_backend\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
