"""User-facing errors: raised for bad input and shown as one line, never as a traceback."""


class ScenesplitError(Exception):
    """Base of every error caused by the user's input or environment, not by a bug."""


class AudioError(ScenesplitError):
    """An audio file that cannot be used; the message names the file and the problem."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class Cancelled(ScenesplitError):
    """A long job stopped because its cancel token was set."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)
