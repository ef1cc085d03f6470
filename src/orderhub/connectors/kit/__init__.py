"""The small kit every connector is built on: HTTP, signing, envelopes, bounded values,
rate limits and the incremental pull engine. A new platform is mostly constants, a
mapping file, typed calls on this kit, and an emulator."""
