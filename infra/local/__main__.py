"""python -m infra.local: start the local stack (see infra/local/stack.py)."""

import sys

from infra.local.stack import main

sys.exit(main())
