"""ParkFlow core: canonical events, the source plugin SDK and registry, settings, simulator, CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("parkflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
