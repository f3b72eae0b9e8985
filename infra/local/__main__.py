"""python -m infra.local: start the local stack (see infra/local/stack.py)."""

import logging
import os
import sys

from infra.local.stack import main

code = main()
sys.stdout.flush()
sys.stderr.flush()
logging.shutdown()
# Everything the stack held lives in this process (the embedded AWS included) and has been stopped;
# a handler thread still inside a slow call (a probe, a push) would only delay the exit, so do not
# wait for it: Ctrl-C and SIGTERM end the stack at once, however busy it was.
os._exit(code)
