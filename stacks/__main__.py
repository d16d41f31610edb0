"""mlmon's Pulumi program: deploys exactly what `mlmon render --env <environment>` renders.

The logic lives in generators/deploy/program.py (importable, tested under Pulumi's mocks); this file only
makes the repository importable and calls it. See docs/deploy.md.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generators.deploy.program import main  # noqa: E402

main(ROOT)
