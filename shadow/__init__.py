"""Shadow replay of live traffic against candidate ONNX models (issue 5)."""
