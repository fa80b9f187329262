"""grapevine: gossip multicast and group membership. ``grapevine.sim`` drives the simulator."""

from . import sim  # noqa: F401

__all__ = ["sim"]
