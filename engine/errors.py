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


def os_error_message(exc: OSError, path: bool = True) -> str:
    """An OSError as one line: `<path>: <what went wrong> (<ERRNO>)`; `path=False` leaves the
    path out (for answers to remote clients, who must not learn the server's folders)."""
    import errno
    import os

    code = errno.errorcode.get(exc.errno or 0)
    what = exc.strerror or str(exc)
    name = exc.filename
    if exc.errno == errno.EEXIST and name is not None and not os.path.isdir(name):
        what = "is a file, not a folder"  # mkdir(exist_ok=True) over a file: the usual cause
    elif exc.errno == errno.ENOTDIR:
        what = "a part of this path is a file, not a folder"
    text = f"{what} ({code})" if code else what
    if path and name is not None:
        shown = os.fsdecode(name) if isinstance(name, str | bytes) else str(name)
        return f"{shown}: {text}"
    return text
