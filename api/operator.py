"""Who is at the command line: the OS account running `warnflow`, as the audit trail
records them (the CLI goes through the same audited workflows functions as the admin API)."""

import getpass
import os

from workflows.core.actors import Actor


def operator() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        name = f"uid {os.getuid()}"
    return Actor.operator(name)
