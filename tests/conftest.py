"""pytest configuration for the heronfs integration suite.

The fixtures live in plugin modules, one per concern:
  rig.zk_fixtures      a real ZooKeeper server and Heron state seeding
  rig.aurora_fixtures  the Aurora scheduler emulator and the `aurora` command
  mount_fixtures       heronfs mounts
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

pytest_plugins = ["rig.zk_fixtures", "rig.aurora_fixtures", "mount_fixtures"]
