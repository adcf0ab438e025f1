"""Training a small MAGE on procedural images (see ../README.md)."""
