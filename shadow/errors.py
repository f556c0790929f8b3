"""Errors of the shadow runner; each names the value that was wrong. The CLI prints them and
exits 2; the API answers 404 / 422."""

from __future__ import annotations


class ShadowError(ValueError):
    """Base class: a candidate, mapping or artifact that cannot be used as given."""


class InvalidMapping(ShadowError):
    """The input mapping does not fit the model's declared features or the ONNX inputs."""


class InvalidArtifact(ShadowError):
    """The file is not a loadable ONNX model, or its outputs cannot be interpreted."""


class SampleRunFailed(ShadowError):
    """Stored rows of the model did not run through the candidate at registration."""


class CandidateExists(ShadowError):
    """The name is taken by a candidate with different bytes: artifacts are immutable."""

    def __init__(self, model: str, name: str, stored_sha256: str, new_sha256: str) -> None:
        super().__init__(
            f"candidate {name!r} of model {model!r} is sha256 {stored_sha256[:12]}..., the file given is "
            f"{new_sha256[:12]}...: a changed artifact is a new candidate, register it under a new name")
        self.model, self.name = model, name


class CandidateNotFound(ShadowError, LookupError):
    """No active candidate of that name for the model."""

    def __init__(self, model: str, name: str) -> None:
        super().__init__(f"model {model!r} has no active shadow candidate named {name!r}")
        self.model, self.name = model, name
