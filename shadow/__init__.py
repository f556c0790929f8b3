"""Shadow replay of live traffic against candidate ONNX models (issue 5; docs/shadow.md).

Pure: mapping (feature -> tensor declarations), encode, outputs (semantics, decode), compare,
compare_paired, compare_slo, compare_slices, comparison, verdict, wording.
ONNX Runtime: session (providers, provider in use, IOBinding), artifact, prepare, infer.
I/O: registry, reads, paired_reads, validate, replay, report, runner.
"""
