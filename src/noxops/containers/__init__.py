"""The one container core: the docker engine, noxops's labels, and leases (the proof
that the run owning a container, folder or file is alive); services/ and image/ use it."""
