"""The build's error types: each names what to fix (a file, a model, a step) and the problem."""

from __future__ import annotations


class BuildError(Exception):
    """Anything that stops the build or a command; the message reads ``<subject>: <problem>``."""

    def __init__(self, subject: str, problem: str):
        self.subject = subject
        self.problem = problem
        super().__init__(f"{subject}: {problem}")

    def __reduce__(self):
        # a worker process's error crosses back to the build pickled, and its args are the message
        return type(self), (self.subject, self.problem)


class InputError(BuildError):
    """Bad input: a raw file, registry row, package or setting; the subject is the file."""


class ProjectError(BuildError):
    """A step failed in the project's own code or checks (a model, a dbt test, a YAML entry), not
    in one input file; the subject names the YAML file or dbt step, the problem every failed node."""
