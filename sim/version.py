"""The installed package's version (``0+unknown`` in a source tree that was not installed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("salesim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
