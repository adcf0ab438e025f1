"""MAGE model definitions and the ONNX model-package exporter (see ../README.md)."""
