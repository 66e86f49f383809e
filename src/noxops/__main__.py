"""``python -m noxops``."""

import sys

from noxops.cli import main

sys.exit(main())
