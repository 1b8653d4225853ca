"""The kinds a file may hold, by name: the registry the import page, the API, the CLI and the
templates read."""

from workflows.imports.kinds import Kind
from workflows.imports.users import USERS
from workflows.imports.warnings import WARNINGS

KINDS: dict[str, Kind] = {kind.name: kind for kind in (WARNINGS, USERS)}
