import sys

from notation_devstack.cli import main

sys.exit(main())
