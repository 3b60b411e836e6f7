"""`python -m jupyter_mlops.cli`."""

import sys

from .main import main

sys.exit(main())
