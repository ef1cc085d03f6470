"""The pure core of orderhub: canonical orders, their states, stock math and rules.

Nothing in here performs I/O, reads the clock or touches a database.
"""
