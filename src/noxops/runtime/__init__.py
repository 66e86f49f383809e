"""The seam to nox: the enabled stages become nox sessions (:mod:`.declare`), the one
place nox's internals are used (:mod:`.noxapi`), the watchdog and schedule around a run,
and what a session installs of noxops itself (:mod:`.distribution`, :mod:`.inject`)."""
