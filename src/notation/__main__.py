from notation._internal.cli.main import run

run()
