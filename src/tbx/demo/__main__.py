"""``python -m tbx.demo``: the same as ``tbx demo``."""

import sys

from tbx.demo.run import main

sys.exit(main())
