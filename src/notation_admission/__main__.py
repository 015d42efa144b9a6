import sys

from notation_admission.cli import main

sys.exit(main())
