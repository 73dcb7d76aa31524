"""Benchmarks reuse the integration suite's fixtures (tests/)."""
import os
import sys

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

pytest_plugins = ["rig.zk_fixtures", "rig.aurora_fixtures", "mount_fixtures"]
