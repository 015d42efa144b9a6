import sys

from notation._internal.cli.main import main

sys.exit(main())
