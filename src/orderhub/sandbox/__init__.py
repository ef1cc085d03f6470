"""Emulators of the external systems orderhub talks to, for demos, tests and benchmarks.

Each emulator speaks its platform's documented API shape over real HTTP on loopback and
can be told to misbehave. Nothing here imports the hub: an emulator is a stand-in for
someone else's server.
"""
