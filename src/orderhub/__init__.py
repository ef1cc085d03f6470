"""orderhub: one hub between every shop, every warehouse and the ERP."""

__version__ = "0.1.0"
