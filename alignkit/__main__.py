import sys

from alignkit._cli import main

sys.exit(main())
